import type { JsonObject, JsonValue } from '../core/index.ts';
import { quoteText, setArgument, typeParameter } from './coerce.ts';
import { pythonJson } from './json-style.ts';
import { tagFormat, type BlockContext, type BlockResult } from './scanner.ts';
import type { AssistantTurn, FormatError, ParsedToolCall, RenderOptions } from './types.ts';

// Qwen3-Coder's XML calls, as its chat template prints them and vLLM's `qwen3_coder` parser reads them:
//   content\n\n<tool_call>\n<function=f>\n<parameter=k>\nvalue\n</parameter>\n</function>\n</tool_call>
// A value is the text between the parameter tags less one wrapping newline on each side, typed by
// the tool's schema (text without one). Qwen3-Coder does not think; a `<think>` block, written the
// way Qwen3 writes it, is still read for the models that share this call syntax.

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const FUNCTION = '<function=';
const FUNCTION_END = '</function>';
const PARAM = '<parameter=';
const PARAM_END = '</parameter>';

export function renderQwen3Coder(turn: AssistantTurn, options: RenderOptions = {}): string {
  let out = '';
  if (turn.reasoning !== undefined && turn.reasoning !== null) {
    out += `${options.thinkOpenedByPrompt ? '' : '<think>\n'}${turn.reasoning}\n</think>\n\n`;
  }
  // The template prints `\n<content>\n` and then `\n<tool_call>…` per call after `<|im_start|>assistant`;
  // the generation prompt already holds that first newline.
  if (turn.toolCalls.length === 0) return out + turn.content;
  turn.toolCalls.forEach((call, i) => {
    out += i === 0 ? (turn.content ? `${turn.content}\n\n` : '') : '\n';
    out += `${OPEN}\n${FUNCTION}${call.name}>\n`;
    for (const [key, value] of Object.entries(call.arguments)) out += `${PARAM}${key}>\n${valueText(value)}\n${PARAM_END}\n`;
    out += `${FUNCTION_END}\n${CLOSE}`;
  });
  return out;
}

/** A value as the published template prints it: strings raw, objects and arrays as JSON, other scalars as Python's `str()`. */
function valueText(value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'number' ? String(value) : pythonJson(value);
}

function parseQwen3CoderBlock(body: string, context: BlockContext): BlockResult {
  const calls: ParsedToolCall[] = [];
  const errors: FormatError[] = [];
  const blockWhere = `${OPEN} block ${context.block}`;
  let pos = 0;
  while (true) {
    const start = body.indexOf(FUNCTION, pos);
    const gap = body.slice(pos, start < 0 ? body.length : start);
    if (gap.trim()) errors.push({ kind: 'stray_text', message: `${blockWhere}: text outside <function=…> ignored: ${quoteText(gap)}` });
    if (start < 0) break;
    const index = context.firstIndex + calls.length;
    const headEnd = body.indexOf('>', start);
    if (headEnd < 0) {
      calls.push({ name: '', arguments: null, argumentsText: body.slice(start) });
      errors.push({ kind: 'malformed_call', message: `tool call ${index} (${blockWhere}): the <function=…> tag is cut off`, callIndex: index });
      break;
    }
    const name = body.slice(start + FUNCTION.length, headEnd).trim();
    const end = body.indexOf(FUNCTION_END, headEnd);
    const where = `tool call ${index} (${blockWhere}, function "${name}")`;
    const args = parseParameters(body.slice(headEnd + 1, end < 0 ? body.length : end), { name, where, index, errors, context });
    calls.push({ name, arguments: args, argumentsText: JSON.stringify(args) });
    if (name === '') errors.push({ kind: 'malformed_call', message: `${where}: <function=> names no function`, callIndex: index });
    if (end < 0) {
      errors.push({ kind: 'unclosed_block', message: `${where}: not closed by ${FUNCTION_END}`, callIndex: index });
      break;
    }
    pos = end + FUNCTION_END.length;
  }
  return { calls, errors };
}

interface ParamScope {
  name: string;
  where: string;
  index: number;
  errors: FormatError[];
  context: BlockContext;
}

/** `<parameter=k>` values run to `</parameter>`, or (as vLLM allows) to the next `<parameter=` when the close is missing. */
function parseParameters(inner: string, scope: ParamScope): JsonObject {
  const { where, index, errors } = scope;
  const args: JsonObject = {};
  let pos = 0;
  // Where the next </parameter> is, found once and reused until passed: searching again for every
  // value would rescan to the end for each of a run of unclosed parameters, quadratic in the text.
  let close = -1;
  let closeSearchedFrom = Infinity;
  while (true) {
    const start = inner.indexOf(PARAM, pos);
    const gap = inner.slice(pos, start < 0 ? inner.length : start);
    if (gap.trim()) errors.push({ kind: 'stray_text', message: `${where}: text outside <parameter=…> ignored: ${quoteText(gap)}`, callIndex: index });
    if (start < 0) break;
    const headEnd = inner.indexOf('>', start);
    if (headEnd < 0) {
      errors.push({ kind: 'malformed_call', message: `${where}: a <parameter=…> tag is cut off`, callIndex: index });
      break;
    }
    const param = inner.slice(start + PARAM.length, headEnd).trim();
    if (headEnd < closeSearchedFrom || (close >= 0 && close < headEnd)) {
      close = inner.indexOf(PARAM_END, headEnd);
      closeSearchedFrom = headEnd;
    }
    const next = inner.indexOf(PARAM, headEnd);
    const closed = close >= 0 && (next < 0 || close < next);
    const valueEnd = closed ? close : next >= 0 ? next : inner.length;
    const text = unwrapNewlines(inner.slice(headEnd + 1, valueEnd));
    if (!closed) errors.push({ kind: 'unclosed_block', message: `${where}: <parameter=${param}> is not closed by ${PARAM_END}`, callIndex: index });
    if (Object.hasOwn(args, param)) errors.push({ kind: 'malformed_call', message: `${where}: parameter "${param}" given twice; the last value wins`, callIndex: index });
    setArgument(args, param, typeParameter(text, param, { schemas: scope.context.schemas, tool: scope.name, where, index, errors }));
    pos = closed ? close + PARAM_END.length : valueEnd;
  }
  return args;
}

/** The template wraps each value in one newline on each side; everything else is the value. */
function unwrapNewlines(text: string): string {
  const start = text.startsWith('\n') ? 1 : 0;
  const end = text.length > start && text.endsWith('\n') ? text.length - 1 : text.length;
  return text.slice(start, end);
}

export const qwen3Coder = tagFormat({ name: 'qwen3-coder', render: renderQwen3Coder, syntax: { open: OPEN, close: CLOSE, parseBlock: parseQwen3CoderBlock }, thinkStart: 'model' });
