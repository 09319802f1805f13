import type { JsonObject, JsonValue } from '../core/index.ts';
import { readJson } from './chat.ts';
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

// What vLLM's `hermes` parser does with what it cannot read, matched here block by block: a body
// that is not a JSON object with a string "name" gives no call, and the text stays in the content.
function parseHermesBlock(body: string, context: BlockContext): BlockResult {
  const text = body.trim();
  const where = `${OPEN} block ${context.block}`;
  const asContent = (kind: FormatError['kind'], message: string): BlockResult => ({
    calls: [],
    errors: [{ kind, message: `${where}: ${message}; the block is left in the content` }],
    content: `${OPEN}${body}${context.closed ? CLOSE : ''}`,
  });
  if (text === '') return asContent('malformed_call', `empty (expected ${EXPECTED})`);
  const read = readJson(text);
  if ('problem' in read) {
    const name = salvageName(text);
    const cut = context.closed ? '' : ', cut off by the end of the completion';
    return asContent('bad_json', `${name ? `the call to "${name}"` : 'the call'} is ${read.problem}${cut}; expected ${EXPECTED}`);
  }
  const value: JsonValue = read.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return asContent('malformed_call', `expected a JSON object ${EXPECTED}`);
  const name = value.name;
  if (typeof name !== 'string') return asContent('malformed_call', `"name" is missing or not a string (expected ${EXPECTED})`);
  const args = value.arguments ?? value.parameters;
  const parsedArgs = argumentsObject(args);
  if (parsedArgs === null) {
    // vLLM passes such arguments on as they are (`json.dumps(arguments)`): a string stays a JSON
    // string, never the object it may spell.
    const index = context.firstIndex;
    const what = typeof args === 'string' ? 'is a JSON string, not an object; kept as that string' : 'is not a JSON object';
    const call: ParsedToolCall = { name, arguments: null, argumentsText: JSON.stringify(args) };
    return { calls: [call], errors: [{ kind: 'malformed_call', message: `tool call ${index} (${where}): "arguments" of "${name}" ${what}`, callIndex: index }] };
  }
  return { calls: [{ name, arguments: parsedArgs, argumentsText: JSON.stringify(parsedArgs) }], errors: [] };
}

/** Arguments as an object: absent means none (as SGLang reads it). */
function argumentsObject(args: JsonValue | undefined): JsonObject | null {
  if (args === undefined) return {};
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

// Qwen3's hybrid template leaves `<think>` to the model; pass `promptOpensThink` for the
// thinking-only (2507) templates that open it in the prompt.
export const hermes = tagFormat({ name: 'hermes', render: renderHermes, syntax: { open: OPEN, close: CLOSE, parseBlock: parseHermesBlock }, thinkStart: 'model' });
