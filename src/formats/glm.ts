import type { JsonObject } from '../core/index.ts';
import { quoteText, setArgument, typeParameter } from './coerce.ts';
import { pythonJson } from './json-style.ts';
import { tagFormat, type BlockContext, type BlockResult } from './scanner.ts';
import type { AssistantTurn, FormatError, RenderOptions } from './types.ts';

// GLM-4.5 / GLM-4.6 calls, as their chat template prints them after `<|assistant|>` and vLLM's
// `glm45` parser reads them:
//   \n<think>reasoning</think>\ncontent\n<tool_call>f\n<arg_key>k</arg_key>\n<arg_value>v</arg_value>\n</tool_call>
// The function name is the text before the first `<arg_key>` (or newline); values are trimmed and
// typed by the schema, and a value with no declared type is read as JSON when it is JSON, as vLLM
// does (`json.loads` on every value whose schema does not say string).

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const KEY = '<arg_key>';
const KEY_END = '</arg_key>';
const VALUE = '<arg_value>';
const VALUE_END = '</arg_value>';

export function renderGlm(turn: AssistantTurn, options: RenderOptions = {}): string {
  let out = '';
  if (turn.reasoning !== undefined && turn.reasoning !== null) out += `${options.thinkOpenedByPrompt ? '' : '\n<think>'}${turn.reasoning}</think>`;
  if (turn.content) out += `\n${turn.content}`;
  for (const call of turn.toolCalls) {
    out += `\n${OPEN}${call.name}\n`;
    for (const [key, value] of Object.entries(call.arguments)) {
      out += `${KEY}${key}${KEY_END}\n${VALUE}${typeof value === 'string' ? value : pythonJson(value)}${VALUE_END}\n`;
    }
    out += CLOSE;
  }
  return out;
}

function parseGlmBlock(body: string, context: BlockContext): BlockResult {
  const errors: FormatError[] = [];
  const index = context.firstIndex;
  const firstKey = body.indexOf(KEY);
  const newline = body.indexOf('\n');
  const nameEnd = firstKey < 0 ? (newline < 0 ? body.length : newline) : newline >= 0 && newline < firstKey ? newline : firstKey;
  const name = body.slice(0, nameEnd).trim();
  const where = `tool call ${index} (${OPEN} block ${context.block}, function "${name}")`;
  if (name === '') errors.push({ kind: 'malformed_call', message: `${where}: no function name after ${OPEN}`, callIndex: index });
  const args: JsonObject = {};
  let pos = nameEnd;
  while (true) {
    const keyStart = body.indexOf(KEY, pos);
    const gap = body.slice(pos, keyStart < 0 ? body.length : keyStart);
    if (gap.trim()) errors.push({ kind: 'stray_text', message: `${where}: text outside <arg_key>/<arg_value> ignored: ${quoteText(gap)}`, callIndex: index });
    if (keyStart < 0) break;
    const keyEnd = body.indexOf(KEY_END, keyStart);
    const valueStart = keyEnd < 0 ? -1 : body.indexOf(VALUE, keyEnd);
    const valueEnd = valueStart < 0 ? -1 : body.indexOf(VALUE_END, valueStart);
    if (keyEnd < 0 || valueStart < 0 || valueEnd < 0 || body.slice(keyEnd + KEY_END.length, valueStart).trim()) {
      errors.push({ kind: 'malformed_call', message: `${where}: an <arg_key> without a complete <arg_value>…</arg_value> after it is dropped`, callIndex: index });
      break;
    }
    const key = body.slice(keyStart + KEY.length, keyEnd).trim();
    const text = body.slice(valueStart + VALUE.length, valueEnd).trim();
    if (Object.hasOwn(args, key)) errors.push({ kind: 'malformed_call', message: `${where}: argument "${key}" given twice; the last value wins`, callIndex: index });
    setArgument(args, key, typeParameter(text, key, { schemas: context.schemas, tool: name, where, index, errors, untyped: 'json' }));
    pos = valueEnd + VALUE_END.length;
  }
  return { calls: [{ name, arguments: args, argumentsText: JSON.stringify(args) }], errors };
}

// GLM's template leaves `<think>` to the model (`<|assistant|>` then `\n<think>…`); it closes an
// empty block in the prompt when `enable_thinking` is false.
export const glm = tagFormat({ name: 'glm-4.5', render: renderGlm, syntax: { open: OPEN, close: CLOSE, parseBlock: parseGlmBlock }, thinkStart: 'model' });
