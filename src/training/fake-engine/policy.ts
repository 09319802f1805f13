import { InputError, parseInput, type JsonObject, type Rng } from '../../core/index.ts';
import type { ChatTool } from '../../formats/index.ts';
import { randomArguments, Script, type ScriptInput } from '../../model/index.ts';

// What the fake model says. A policy sees the request (never a shared random stream: each request
// brings its own rng, seeded from the engine seed and a digest of the conversation, so concurrent
// conversations cannot disturb each other) and returns one assistant turn as data; the engine
// turns it into text, ids and logprobs.

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export interface PolicyRequest {
  /** Assistant turns already in the conversation. */
  assistantTurns: number;
  /** Assistant turns since the last user message (tool results do not count as one). */
  turnsSinceUser: number;
  tools: readonly ChatTool[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean;
  /** False when the request turned reasoning off (`chat_template_kwargs.enable_thinking: false`). */
  thinking: boolean;
  rng: Rng;
}

export interface PolicyToolCall {
  /** The provider id to report; derived from the seed and conversation when left out. */
  id?: string;
  name: string;
  /** An object, or text written verbatim (to script malformed calls). */
  arguments: JsonObject | string;
}

export interface PolicyTurn {
  reasoning: string | null;
  content: string;
  toolCalls: PolicyToolCall[];
}

export type PolicyResult = { ok: true; turn: PolicyTurn } | { ok: false; message: string };

export interface FakePolicy {
  readonly name: string;
  next(request: PolicyRequest): PolicyResult;
}

export interface ScriptPolicy extends FakePolicy {
  /** Script turns no request has asked for yet (0-based), for a warning when the engine stops. */
  unplayed(): number[];
}

const UNSUPPORTED = ['raw', 'fault', 'reasoningStyle', 'signature', 'finishReason'] as const;

/**
 * Plays a script (the `gauntlet mock-model` format) turn by turn: the turn is the number of
 * assistant messages in the request. A request past the end of the script is an error response
 * naming the turn, never a made-up answer.
 */
export function scriptPolicy(script: Script | ScriptInput, where = 'script'): ScriptPolicy {
  const parsed = parseInput(Script, script, where);
  parsed.turns.forEach((turn, i) => {
    for (const key of UNSUPPORTED) {
      if (turn[key] !== undefined) {
        throw new InputError(`${where}: turns.${i}.${key}`, 'is not supported by the fake engine, which writes every turn through the chat template', 'reasoning, content and toolCalls only (gauntlet mock-model serves raw and fault turns)');
      }
    }
  });
  const played = new Set<number>();
  return {
    name: 'script',
    next(request) {
      const index = request.assistantTurns;
      const turn = parsed.turns[index];
      if (!turn) {
        return { ok: false, message: `${where}: the script has ${parsed.turns.length} turn${parsed.turns.length === 1 ? '' : 's'} and this request asks for turn ${index + 1} (the conversation holds ${index} assistant message${index === 1 ? '' : 's'})` };
      }
      played.add(index);
      return {
        ok: true,
        turn: {
          // A template that closed the reasoning block in the prompt leaves the model no room to think.
          reasoning: request.thinking ? (turn.reasoning ?? null) : null,
          content: turn.content ?? '',
          toolCalls: (turn.toolCalls ?? []).map((call) => ({
            ...(call.id ? { id: call.id } : {}),
            name: call.name,
            arguments: call.argumentsText ?? call.arguments ?? {},
          })),
        },
      };
    },
    unplayed: () => parsed.turns.map((_turn, i) => i).filter((i) => !played.has(i)),
  };
}

export interface ToolWalkOptions {
  /** Tool-calling turns before the answer, counted from the last user message. */
  turns: number;
}

const WORDS = ['config', 'parser', 'cache', 'index', 'schema', 'request', 'result', 'fixture', 'branch', 'budget', 'record', 'token', 'header', 'payload', 'window', 'queue'];
const VERBS = ['check', 'compare', 'confirm', 'inspect', 'verify', 'narrow down', 'look at', 'rule out'];

/**
 * Walks the request's own tools: for `turns` turns after each user message it reasons briefly and
 * calls one of the declared tools (sometimes two, when parallel calls are allowed) with
 * schema-valid arguments, then answers. `tool_choice` is obeyed: `none` answers at once,
 * `required` always calls, a named tool is the one called.
 */
export function toolWalkPolicy(options: ToolWalkOptions): FakePolicy {
  if (!Number.isInteger(options.turns) || options.turns < 0) throw new InputError('tool-walk turns', `got ${options.turns}`, 'a non-negative integer');
  return {
    name: 'tool-walk',
    next(request) {
      const { rng } = request;
      const choice = request.toolChoice;
      const offered = typeof choice === 'object' ? request.tools.filter((tool) => tool.function.name === choice.name) : choice === 'none' ? [] : request.tools;
      const mustCall = choice === 'required' || typeof choice === 'object';
      const step = request.turnsSinceUser;
      if (offered.length === 0 || (!mustCall && step >= options.turns)) {
        return { ok: true, turn: { reasoning: request.thinking ? answerReasoning(rng, step) : null, content: answerText(rng, step), toolCalls: [] } };
      }
      const count = request.parallelToolCalls && !(typeof choice === 'object') && offered.length > 1 && rng.next() < 0.2 ? 2 : 1;
      const tools = rng.shuffle(offered).slice(0, count);
      const toolCalls = tools.map((tool) => ({ name: tool.function.name, arguments: randomArguments(tool.function.parameters ?? { type: 'object' }, rng) }));
      const names = toolCalls.map((call) => call.name);
      return {
        ok: true,
        turn: {
          reasoning: request.thinking ? callReasoning(rng, { step, total: options.turns, names }) : null,
          content: rng.next() < 0.25 ? `Let me ${rng.pick(VERBS)} that with ${names.join(' and ')}.` : '',
          toolCalls,
        },
      };
    },
  };
}

function sentence(rng: Rng): string {
  const words = Array.from({ length: rng.int(4, 10) }, () => rng.pick(WORDS));
  return `The ${words.join(' ')} ${rng.pick(['matters here', 'looks relevant', 'may have changed', 'needs a second look'])}.`;
}

function callReasoning(rng: Rng, info: { step: number; total: number; names: string[] }): string {
  const filler = Array.from({ length: rng.int(1, 4) }, () => sentence(rng)).join(' ');
  return `Step ${info.step + 1} of ${info.total}: I should ${rng.pick(VERBS)} the ${rng.pick(WORDS)} before answering. ${filler} Calling ${info.names.join(' and ')}.`;
}

function answerReasoning(rng: Rng, step: number): string {
  return `I have what I need after ${step} tool call${step === 1 ? '' : 's'}. ${sentence(rng)}`;
}

function answerText(rng: Rng, step: number): string {
  return `Done after ${step} tool call${step === 1 ? '' : 's'}: the ${rng.pick(WORDS)} and the ${rng.pick(WORDS)} are consistent.`;
}
