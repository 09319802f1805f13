// The simulated user inside an environment: the episode's user log (a SQLite table, so it is part
// of the state and its snapshots), the `ask_user` tool, the follow-up turn for text answers, and
// the action log that lets checks see whether the agent asked before it acted.
import { z } from 'zod';
import { InfraError } from '../../core/index.ts';
import { defineTool, ToolError, type EpisodeContext, type ToolDefinition } from '../define.ts';
import { isStop, withoutStop, type LogEntry } from './conversation.ts';
import { closesConversation, detectSimulatorFault } from './monitor.ts';
import { scenarioOf } from './scenario.ts';
import { createScriptedUser, type UserSimulator } from './simulator.ts';

/** Every message between agent and user, and every state-changing call, in one ordered log. */
export const USER_LOG_SCHEMA = `
CREATE TABLE user_log (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('agent', 'user', 'action')),
  via TEXT NOT NULL,
  text TEXT NOT NULL,
  at TEXT NOT NULL
);`;

const SCRIPTED = createScriptedUser();

export function readUserLog(ctx: Pick<EpisodeContext, 'db'>): LogEntry[] {
  return ctx.db.prepare('SELECT seq, kind, via, text FROM user_log ORDER BY seq').all() as LogEntry[];
}

function append(ctx: Pick<EpisodeContext, 'db' | 'clock'>, entry: Omit<LogEntry, 'seq'>): void {
  ctx.db.prepare('INSERT INTO user_log (kind, via, text, at) VALUES (?, ?, ?, ?)').run(entry.kind, entry.via, entry.text, ctx.clock.now().toISOString());
}

export interface UserExchange {
  /** What the agent reads (the stop token removed). */
  reply: string;
  /** The user ended the conversation, or kept answering the agent's reports past the cap and was closed. */
  ended: boolean;
}

/**
 * The most messages an agent may send the user in one episode. Each one is a simulator call (an
 * LLM user's carries the whole conversation), and `ask_user` calls in one turn have no turn limit
 * to stop them: past this, the user has left and the world is judged as it stands.
 */
export const MAX_USER_EXCHANGES = 30;

/** What the rollout's signal stopped: the agent's time or the run, not the simulator (see `talkToUser`). */
class UserInterrupted extends Error {}

/**
 * One exchange with the task's user: the agent's message, the simulator's reply, both logged. A
 * reply that breaks the scenario ends the episode as the simulator's infrastructure failure.
 */
export async function talkToUser(ctx: EpisodeContext, input: { message: string; via: 'ask_user' | 'answer' }): Promise<UserExchange> {
  const scenario = scenarioOf(ctx.task);
  if (!scenario) throw new ToolError('there is no user to talk to in this task; work from the instruction');
  const simulator: UserSimulator = ctx.user ?? SCRIPTED;
  const log = readUserLog(ctx);
  const cap = simulator.maxExchanges ?? MAX_USER_EXCHANGES;
  // The agent's doing, not the simulator's: nothing is logged, as the user never read it.
  if (log.filter((e) => e.kind === 'agent').length >= cap) return { reply: '', ended: true };
  let raw: string;
  try {
    raw = await simulator.reply({ scenario, opening: ctx.task.instruction, log, message: input.message, signal: ctx.signal });
  } catch (error) {
    // The rollout's deadline (or a cancel) cut a reply the simulator was still within its own time
    // for: the agent used up the time. A simulator that failed on its own (its time-out, a 5xx)
    // says so with another kind, and stays the simulator's failure.
    const cutShort = ctx.signal.aborted && (!(error instanceof InfraError) || error.kind === 'aborted');
    if (cutShort) throw new UserInterrupted('the rollout stopped while the user was answering', { cause: error });
    throw error;
  }
  const fault = detectSimulatorFault({ scenario, log, message: input.message, reply: raw });
  if (fault) {
    throw new InfraError('user_simulator', `${fault.message} (simulator ${simulator.name}, task ${ctx.task.id})`, {
      kind: 'malformed_response',
      retryable: simulator.sampled,
      detail: { fault: fault.kind, ...(fault.fact ? { fact: fault.fact } : {}), simulator: simulator.name, reply: raw },
    });
  }
  append(ctx, { kind: 'agent', via: input.via, text: input.message });
  append(ctx, { kind: 'user', via: input.via, text: raw });
  const afterReport = simulator.maxRepliesAfterReport;
  if (closesConversation({ log, message: input.message, reply: raw, ...(afterReport !== undefined ? { maxRepliesAfterReport: afterReport } : {}) })) return { reply: '', ended: true };
  return { reply: withoutStop(raw), ended: isStop(raw) };
}

export const ask_user = defineTool({
  description:
    'Send a message to the user you are working for and wait for their reply: ask for details you need, or ask them to confirm before you change anything on their behalf. One question or confirmation per call.',
  input: z.object({ message: z.string().trim().min(1, 'write the question for the user') }),
  run: async ({ message }, ctx) => {
    const exchange = await talkToUser(ctx, { message, via: 'ask_user' }).catch((error: unknown) => {
      // A tool error, so the loop ends the rollout for what stopped it (its deadline, a cancel).
      if (error instanceof UserInterrupted) throw new ToolError(error.message);
      throw error;
    });
    const { reply, ended } = exchange;
    if (ended) return { content: reply === '' ? 'The user has left the conversation.' : `User: ${reply}\n(The user has left the conversation.)`, endsEpisode: true };
    return `User: ${reply}`;
  },
});

/**
 * The environment's follow-up turn: a text answer goes to the user, whose reply continues the
 * episode until they stop. Cut short by the rollout's signal, the turn returns a note in place of
 * the reply the user never finished: the loop's next turn then stops for its deadline or cancel
 * (no model reads the note), where ending the conversation would judge the rollout `answered`.
 */
export async function userFollowUp(ctx: EpisodeContext, answer: string): Promise<string | null> {
  if (!scenarioOf(ctx.task)) return null;
  try {
    const { reply, ended } = await talkToUser(ctx, { message: answer, via: 'answer' });
    return ended ? null : reply;
  } catch (error) {
    if (error instanceof UserInterrupted) return `(no reply: ${error.message})`;
    throw error;
  }
}

/**
 * The environment's tools plus `ask_user`, each named in `actions` logging its successful calls
 * (inside the call's savepoint, so a failed call leaves no entry). Only tasks with a user log.
 */
export function withUserTools(tools: Record<string, ToolDefinition>, actions: readonly string[]): Record<string, ToolDefinition> {
  const unknown = actions.filter((name) => !tools[name]);
  if (unknown.length > 0) throw new Error(`withUserTools: no tools named ${unknown.join(', ')}`);
  const wrapped: Record<string, ToolDefinition> = {};
  for (const [name, tool] of Object.entries(tools)) {
    if (!actions.includes(name)) {
      wrapped[name] = tool;
      continue;
    }
    wrapped[name] = {
      ...tool,
      run: async (input, ctx) => {
        const result = await tool.run(input, ctx);
        if (scenarioOf(ctx.task)) append(ctx, { kind: 'action', via: name, text: JSON.stringify(input) });
        return result;
      },
    };
  }
  return { ...wrapped, ask_user: ask_user as ToolDefinition };
}
