import type { JsonObject, JsonValue } from '../core/index.ts';
import { tryParseObject } from './chat.ts';
import { pythonJson } from './json-style.ts';
import { tagFormat, type BlockContext, type BlockResult } from './scanner.ts';
import type { AssistantTurn, FormatError, ParsedToolCall, RenderOptions } from './types.ts';

// Hermes-style calls, as the Qwen2.5/Qwen3 family writes them and vLLM's `hermes` parser reads them:
//   <think>\n…\n</think>\n\ncontent\n<tool_call>\n{"name": "f", "arguments": {…}}\n</tool_call>
// The renderer writes exactly what a Qwen3-style template prints for the turn, so a completion
// and its re-rendering agree byte for byte.

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const EXPECTED = '{"name": <tool name>, "arguments": {…}}';

export function renderHermes(turn: AssistantTurn, options: RenderOptions = {}): string {
  let out = '';
  if (turn.reasoning !== undefined && turn.reasoning !== null) {
    out += `${options.thinkOpenedByPrompt ? '' : '<think>\n'}${turn.reasoning}\n</think>\n\n`;
  }
  out += turn.content;
  turn.toolCalls.forEach((call, i) => {
    if (i > 0 || turn.content) out += '\n';
    out += `${OPEN}\n{"name": "${call.name}", "arguments": ${pythonJson(call.arguments)}}\n${CLOSE}`;
  });
  return out;
}

function parseHermesBlock(body: string, context: BlockContext): BlockResult {
  const text = body.trim();
  const where = `tool call ${context.firstIndex} (${OPEN} block ${context.block})`;
  const fail = (kind: FormatError['kind'], message: string, name = ''): BlockResult => ({
    calls: [{ name, arguments: null, argumentsText: text }],
    errors: [{ kind, message: `${where}: ${message}`, callIndex: context.firstIndex }],
  });
  if (text === '') {
    return { calls: [], errors: [{ kind: 'malformed_call', message: `${OPEN} block ${context.block} is empty (expected ${EXPECTED})` }] };
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail('bad_json', `not valid JSON (${reason}); expected ${EXPECTED}`, salvageName(text));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('malformed_call', `expected a JSON object ${EXPECTED}`);
  }
  const name = value.name;
  if (typeof name !== 'string') return fail('malformed_call', `"name" is missing or not a string (expected ${EXPECTED})`);
  const args = value.arguments ?? value.parameters;
  const parsedArgs = argumentsObject(args);
  if (parsedArgs === null) {
    const kind = typeof args === 'string' ? 'bad_json' : 'malformed_call';
    const call: ParsedToolCall = { name, arguments: null, argumentsText: typeof args === 'string' ? args : JSON.stringify(args) };
    return { calls: [call], errors: [{ kind, message: `${where}: "arguments" of "${name}" is not a JSON object`, callIndex: context.firstIndex }] };
  }
  return { calls: [{ name, arguments: parsedArgs, argumentsText: JSON.stringify(parsedArgs) }], errors: [] };
}

/** Arguments as an object: absent means none; some models write them as a JSON string. */
function argumentsObject(args: JsonValue | undefined): JsonObject | null {
  if (args === undefined) return {};
  if (typeof args === 'string') return tryParseObject(args);
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) return args;
  return null;
}

/** The tool name from JSON too broken to parse, so the error can say which call it was. */
function salvageName(text: string): string {
  const match = /"name"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text);
  if (!match) return '';
  try {
    return JSON.parse(`"${match[1]}"`) as string;
  } catch (_error) {
    return '';
  }
}

export const hermes = tagFormat('hermes', renderHermes, { open: OPEN, close: CLOSE, parseBlock: parseHermesBlock });
