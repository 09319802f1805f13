import { z } from 'zod';
import { errorMessage, FinishReason, InputError, JsonObject, parseInput, parseInputText, readInputFile, type JsonValue, type Message, type ToolCall } from '../core/index.ts';
import { parseArguments } from './openai-parse.ts';

export const ScriptToolCall = z
  .object({
    /** The provider id to report; `call_<turn>_<i>` when left out. */
    id: z.string().min(1).optional(),
    name: z.string().min(1),
    arguments: JsonObject.optional(),
    /** Sent verbatim instead of `arguments` (so malformed JSON can be scripted). */
    argumentsText: z.string().optional(),
  })
  .strict();
export type ScriptToolCall = z.infer<typeof ScriptToolCall>;

/** Faults the mock server injects once per turn; `cut_stream` drops the connection half-way through the answer. */
export const ScriptFault = z.enum(['http_500', 'hang', 'malformed_json', 'cut_stream']);
export type ScriptFault = z.infer<typeof ScriptFault>;

export const ReasoningStyle = z.enum(['inline_think', 'reasoning_content', 'reasoning_field', 'reasoning_details']);
export type ReasoningStyle = z.infer<typeof ReasoningStyle>;

export const ScriptTurn = z
  .object({
    reasoning: z.string().optional(),
    content: z.string().optional(),
    toolCalls: z.array(ScriptToolCall).optional(),
    finishReason: FinishReason.optional(),
    /** An OpenAI chat assistant message, returned verbatim as `choices[0].message` by the mock server. */
    raw: JsonObject.optional(),
    fault: ScriptFault.optional(),
    /** How the mock server emits reasoning; `inline_think` by default. */
    reasoningStyle: ReasoningStyle.optional(),
    /** The thinking block's signature on the Anthropic route. */
    signature: z.string().optional(),
  })
  .strict();
export type ScriptTurn = z.infer<typeof ScriptTurn>;

export const Script = z
  .object({
    /** The model name the mock server reports. */
    model: z.string().min(1).default('scripted'),
    turns: z.array(ScriptTurn),
  })
  .strict();
export type Script = z.infer<typeof Script>;
export type ScriptInput = z.input<typeof Script>;

/** Reads a script from YAML or JSON; every problem is an InputError naming the file and field. */
export async function loadScript(path: string): Promise<Script> {
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read the script: ${errorMessage(error)}`, 'a YAML or JSON file with `turns: [...]`') });
  return parseScriptText(text, path);
}

export function parseScriptText(text: string, where: string): Script {
  const json = where.endsWith('.json');
  const { value } = parseInputText(text, where, { json, syntax: `not valid ${json ? 'JSON' : 'YAML'}` });
  return parseInput(Script, value, where);
}

/** The turn a request is on: one per assistant message already in the conversation. */
export function turnIndex(messages: readonly Pick<Message, 'role'>[] | readonly JsonValue[]): number {
  let count = 0;
  for (const message of messages) {
    if (message !== null && typeof message === 'object' && !Array.isArray(message) && message.role === 'assistant') count++;
  }
  return count;
}

/** Turns still unplayed after `messages`: non-zero at the end of a rollout means the run stopped early. */
export function remainingTurns(script: Pick<ScriptInput, 'turns'>, messages: readonly Message[]): number {
  return Math.max(0, script.turns.length - turnIndex(messages));
}

export function scriptExhaustedMessage(script: Pick<Script, 'turns'>, turn: number): string {
  return `scripted model: the script has ${script.turns.length} turn${script.turns.length === 1 ? '' : 's'} and call ${turn + 1} arrived`;
}

/** A scripted call with its id, exact text and parsed arguments filled in. */
export function resolveToolCalls(turn: ScriptTurn, index: number): ToolCall[] {
  return (turn.toolCalls ?? []).map((call, i) => {
    const argumentsText = call.argumentsText ?? JSON.stringify(call.arguments ?? {});
    return { id: call.id ?? `call_${index}_${i}`, name: call.name, ...parseArguments(argumentsText) };
  });
}

export function scriptedFinishReason(turn: ScriptTurn): FinishReason {
  const rawCalls = turn.raw?.tool_calls;
  const calls = (turn.toolCalls ?? []).length + (Array.isArray(rawCalls) ? rawCalls.length : 0);
  return turn.finishReason ?? (calls > 0 ? 'tool_calls' : 'stop');
}
