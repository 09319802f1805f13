// A rollout seen the way a detector reads it: per model call, what the model thought, said and
// did (tool calls with their results), plus who asked for what. Built from the stored model
// calls (or an export line), which record every request and response as they happened.
import { z } from 'zod';
import {
  InputError,
  ModelCall,
  parseInput,
  Rollout,
  RolloutEvent,
  SCHEMA_VERSION,
  upgradeRecord,
  type JsonObject,
  type Message,
  type VerifierOutcome,
} from '../../core/index.ts';
import { textKey } from './text.ts';

export interface ToolStep {
  /** The model call whose response made this tool call. */
  callIndex: number;
  id: string;
  name: string;
  /** Parsed arguments; null when the model wrote something that is not a JSON object. */
  args: JsonObject | null;
  argsText: string;
  /** What the tool returned; null when no later record holds it (the episode ended on this call). */
  result: { content: string; isError: boolean } | null;
}

export interface Turn {
  callIndex: number;
  reasoning: string;
  content: string;
  tools: ToolStep[];
}

export interface Trajectory {
  rolloutId: string;
  attempt: number;
  env: string;
  taskId: string;
  system: string;
  /** The task's instruction first, then any later user turns, in order. */
  userMessages: string[];
  /** Tool descriptions the model was offered (the first call's), for context such as the work dir. */
  tools: { name: string; description: string }[];
  turns: Turn[];
  finalAnswer: string | null;
  verifier: VerifierOutcome | null;
}

/** Calls that show the agent acting: turns and sub-agents (summaries, judges and simulated users do not). */
const ACTING = new Set<ModelCall['purpose']>(['turn', 'subagent']);

function lastAssistantIndex(messages: readonly Message[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'assistant') return i;
  return -1;
}

/**
 * Joins each call's tool calls with their results. A call's results are the tool messages that
 * follow the last assistant message in the next acting call's request (matched by id where the
 * turn's ids are distinct, else by position: some providers repeat ids); the last call's results
 * come from the `tool_result` events when the export carries them.
 */
export function trajectoryOf(rollout: Rollout, calls: readonly ModelCall[], events: readonly RolloutEvent[] = []): Trajectory {
  const acting = calls.filter((c) => c.attempt === rollout.attempt && ACTING.has(c.purpose)).sort((a, b) => a.index - b.index);
  const first = acting[0];
  const userMessages: string[] = [];
  const seenUser = new Set<string>();
  const addUser = (text: string) => {
    const key = textKey(text);
    if (seenUser.has(key)) return;
    seenUser.add(key);
    userMessages.push(text);
  };
  const turns: Turn[] = acting.map((call) => {
    const message = call.response?.message;
    return {
      callIndex: call.index,
      reasoning: message?.reasoning?.text ?? '',
      content: message?.content ?? '',
      tools: (message?.toolCalls ?? []).map((t) => ({ callIndex: call.index, id: t.id, name: t.name, args: t.arguments, argsText: t.argumentsText, result: null })),
    };
  });
  acting.forEach((call, i) => {
    const messages = call.request.messages;
    const last = lastAssistantIndex(messages);
    const fresh = messages.slice(last + 1);
    for (const m of i === 0 ? messages : fresh) if (m.role === 'user') addUser(m.content);
    const previous = turns[i - 1];
    if (!previous) return;
    const results = fresh.filter((m): m is Extract<Message, { role: 'tool' }> => m.role === 'tool');
    const unique = new Set(previous.tools.map((t) => textKey(t.id))).size === previous.tools.length;
    // The first result of each id, looked up once per step (a turn may make thousands of calls).
    const byId = new Map<string, (typeof results)[number]>();
    if (unique) for (const r of results) if (!byId.has(textKey(r.toolCallId))) byId.set(textKey(r.toolCallId), r);
    previous.tools.forEach((step, position) => {
      const match = (unique ? byId.get(textKey(step.id)) : undefined) ?? results[position];
      if (match) step.result = { content: match.content, isError: match.isError };
    });
  });
  const lastTurn = turns.at(-1);
  if (lastTurn) {
    // The last call's steps still waiting for a result, by id, in order: each event takes the first.
    const waiting = new Map<string, ToolStep[]>();
    for (let i = lastTurn.tools.length - 1; i >= 0; i--) {
      const step = lastTurn.tools[i]!;
      if (step.result !== null) continue;
      const list = waiting.get(textKey(step.id));
      if (list) list.push(step);
      else waiting.set(textKey(step.id), [step]);
    }
    for (const event of events) {
      if (event.type !== 'tool_result' || event.attempt !== rollout.attempt) continue;
      const step = waiting.get(textKey(event.data.id))?.pop();
      if (step) step.result = { content: event.data.content, isError: !event.data.ok };
    }
  }
  return {
    rolloutId: rollout.id,
    attempt: rollout.attempt,
    env: rollout.env,
    taskId: rollout.taskId,
    system: first?.request.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n') ?? '',
    userMessages,
    tools: (first?.request.tools ?? []).map((t) => ({ name: t.name, description: t.description })),
    turns,
    finalAnswer: rollout.finalAnswer,
    verifier: rollout.verifier,
  };
}

/** Every tool step of the trajectory, in the order the model made them. */
export function stepsOf(trajectory: Trajectory): ToolStep[] {
  return trajectory.turns.flatMap((t) => t.tools);
}

/** One line of `gauntlet export RUN --format jsonl` (without `--for`). */
const ExportLineShape = z.object({
  schemaVersion: z.number().int().positive(),
  run: z.object({ id: z.string() }).passthrough(),
  rollout: z.record(z.string(), z.unknown()),
  modelCalls: z.array(z.record(z.string(), z.unknown())),
  events: z.array(z.record(z.string(), z.unknown())).optional(),
});

export interface ExportedRollout {
  runId: string;
  rollout: Rollout;
  calls: ModelCall[];
  events: RolloutEvent[];
}

/** Parses one export line, upgrading records written by older versions; `where` names the file and line. */
export function parseExportLine(text: string, where: string): ExportedRollout {
  try {
    return parseLine(text, where);
  } catch (error) {
    // Values nested deeper than the stack allows (arguments 100,000 objects deep) overflow the parser or the schema check.
    if (error instanceof RangeError) throw new InputError(where, `nested too deeply to read (${error.message})`, 'a rollout as `gauntlet export` writes it');
    throw error;
  }
}

function parseLine(text: string, where: string): ExportedRollout {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new InputError(where, `not JSON (${(error as Error).message})`, 'one JSON object per line, as `gauntlet export RUN --format jsonl` writes');
  }
  const line = parseInput(ExportLineShape, raw, where);
  if (line.schemaVersion > SCHEMA_VERSION) throw new InputError(`${where}: schemaVersion`, `the line has schema version ${line.schemaVersion}, newer than this Gauntlet reads`, `schema version ${SCHEMA_VERSION} or older (upgrade Gauntlet)`);
  const upgrade = <T>(kind: 'rollout' | 'modelCall' | 'event', schema: z.ZodType<T>, record: Record<string, unknown>, at: string): T | null => {
    const upgraded = upgradeRecord(kind, { schemaVersion: line.schemaVersion, ...record }, at);
    return upgraded === null ? null : parseInput(schema, upgraded, at);
  };
  const rollout = upgrade('rollout', Rollout, line.rollout, `${where}: rollout`);
  if (!rollout) throw new InputError(`${where}: rollout`, 'the rollout record has no current form', 'a rollout record');
  const calls = line.modelCalls.flatMap((c, i) => upgrade('modelCall', ModelCall, c, `${where}: modelCalls.${i}`) ?? []);
  const events = (line.events ?? []).flatMap((e, i) => upgrade('event', RolloutEvent, e, `${where}: events.${i}`) ?? []);
  return { runId: line.run.id, rollout, calls, events };
}
