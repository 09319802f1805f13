import type { JsonObject } from '../core/index.ts';
import { quoteText as quote, setArgument, typeParameter } from './coerce.ts';
import { pythonJson } from './json-style.ts';
import { tagFormat, type BlockContext, type BlockResult } from './scanner.ts';
import type { AssistantTurn, FormatError, ParsedToolCall, RenderOptions } from './types.ts';

// MiniMax-M2's XML calls, read as vLLM's and SGLang's `minimax_m2` parsers read them:
//   reasoning\n</think>\n\ncontent\n<minimax:tool_call>\n<invoke name="f">\n
//   <parameter name="k">v</parameter>\n</invoke>\n</minimax:tool_call>
// Parameter values are text: trimmed, then typed by the tool's schema when one is given (strings
// otherwise). The generation prompt ends in `<think>\n`, so completions start inside the reasoning.

const OPEN = '<minimax:tool_call>';
const CLOSE = '</minimax:tool_call>';
const INVOKE = '<invoke';
const INVOKE_END = '</invoke>';
const PARAM = '<parameter';
const PARAM_END = '</parameter>';
// One attribute: `key="v"`, `key='v'` or `key=v`. Heads are matched as a run of these, so
// attributes other than `name` are read and ignored rather than breaking the tag.
const ATTRIBUTE = /\s+([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/y;

export function renderMiniMax(turn: AssistantTurn, options: RenderOptions = {}): string {
  const opened = options.thinkOpenedByPrompt ?? true;
  let out = '';
  if (turn.reasoning !== undefined && turn.reasoning !== null) out += `${opened ? '' : '<think>\n'}${turn.reasoning}\n</think>\n\n`;
  out += turn.content;
  if (turn.toolCalls.length > 0) {
    out += `${turn.content ? '\n' : ''}${OPEN}\n`;
    for (const call of turn.toolCalls) {
      out += `<invoke name="${call.name}">\n`;
      for (const [key, value] of Object.entries(call.arguments)) {
        out += `<parameter name="${key}">${typeof value === 'string' ? value : pythonJson(value)}${PARAM_END}\n`;
      }
      out += `${INVOKE_END}\n`;
    }
    out += CLOSE;
  }
  return out;
}

function parseMiniMaxBlock(body: string, context: BlockContext): BlockResult {
  const calls: ParsedToolCall[] = [];
  const errors: FormatError[] = [];
  const blockWhere = `${OPEN} block ${context.block}`;
  let pos = 0;
  while (true) {
    const start = body.indexOf(INVOKE, pos);
    const gap = body.slice(pos, start < 0 ? body.length : start);
    if (gap.trim()) errors.push({ kind: 'stray_text', message: `${blockWhere}: text outside <invoke> ignored: ${quote(gap)}` });
    if (start < 0) break;
    const index = context.firstIndex + calls.length;
    const headEnd = body.indexOf('>', start);
    if (headEnd < 0) {
      calls.push({ name: '', arguments: null, argumentsText: body.slice(start) });
      errors.push({ kind: 'malformed_call', message: `tool call ${index} (${blockWhere}): the <invoke …> tag is cut off (expected <invoke name="…">)`, callIndex: index });
      break;
    }
    const name = attributeName(body.slice(start + INVOKE.length, headEnd));
    const end = body.indexOf(INVOKE_END, headEnd);
    const inner = body.slice(headEnd + 1, end < 0 ? body.length : end);
    if (name !== undefined && context.schemas && !context.schemas.has(name)) {
      // Dropped, as SGLang's detector and vLLM's unified minimax_m2 parser (validate_tool_names) drop
      // a call to a function that was not among the request's tools.
      errors.push({ kind: 'unknown_tool', message: `${blockWhere}: <invoke name="${name}"> dropped: no tool named "${name}" was offered` });
      if (end < 0) break;
      pos = end + INVOKE_END.length;
      continue;
    }
    const where = `tool call ${index} (${blockWhere}, invoke "${name ?? ''}")`;
    if (name === undefined) {
      errors.push({ kind: 'malformed_call', message: `${where}: <invoke> has no name attribute (expected <invoke name="…">)`, callIndex: index });
    }
    const args = parseParameters(inner, { tool: name ?? '', where, index, context, errors });
    calls.push({ name: name ?? '', arguments: args, argumentsText: JSON.stringify(args) });
    if (end < 0) {
      errors.push({ kind: 'unclosed_block', message: `${where}: <invoke> is not closed by ${INVOKE_END}`, callIndex: index });
      break;
    }
    pos = end + INVOKE_END.length;
  }
  return { calls, errors };
}

interface ParamScope {
  tool: string;
  where: string;
  index: number;
  context: BlockContext;
  errors: FormatError[];
}

function parseParameters(inner: string, scope: ParamScope): JsonObject {
  const { where, index, errors } = scope;
  const args: JsonObject = {};
  let pos = 0;
  while (true) {
    const start = inner.indexOf(PARAM, pos);
    const gap = inner.slice(pos, start < 0 ? inner.length : start);
    if (gap.trim()) errors.push({ kind: 'stray_text', message: `${where}: text outside <parameter> ignored: ${quote(gap)}`, callIndex: index });
    if (start < 0) break;
    const headEnd = inner.indexOf('>', start);
    if (headEnd < 0) {
      errors.push({ kind: 'malformed_call', message: `${where}: a <parameter …> tag is cut off (expected <parameter name="…">)`, callIndex: index });
      break;
    }
    const param = attributeName(inner.slice(start + PARAM.length, headEnd));
    const end = inner.indexOf(PARAM_END, headEnd);
    const text = inner.slice(headEnd + 1, end < 0 ? inner.length : end).trim();
    if (param === undefined) {
      errors.push({ kind: 'malformed_call', message: `${where}: <parameter> has no name attribute; its value ${quote(text)} is dropped`, callIndex: index });
    } else {
      if (Object.hasOwn(args, param)) errors.push({ kind: 'malformed_call', message: `${where}: parameter "${param}" given twice; the last value wins`, callIndex: index });
      setArgument(args, param, typeParameter(text, param, { schemas: scope.context.schemas, tool: scope.tool, where, index, errors }));
    }
    if (end < 0) {
      errors.push({ kind: 'unclosed_block', message: `${where}: <parameter name="${param ?? ''}"> is not closed by ${PARAM_END}`, callIndex: index });
      break;
    }
    pos = end + PARAM_END.length;
  }
  return args;
}

/** The `name` attribute of a tag head (the text between the tag name and `>`); undefined when absent or the head is not attributes. */
function attributeName(head: string): string | undefined {
  let name: string | undefined;
  ATTRIBUTE.lastIndex = 0;
  let end = 0;
  for (let match = ATTRIBUTE.exec(head); match; match = ATTRIBUTE.exec(head)) {
    if (match[1] === 'name') name = match[2] ?? match[3] ?? match[4];
    end = ATTRIBUTE.lastIndex;
  }
  return head.slice(end).trim() === '' || head.slice(end).trim() === '/' ? name : undefined;
}


// MiniMax-M2's template always ends the generation prompt in `<think>\n`.
export const minimaxXml = tagFormat({ name: 'minimax-xml', render: renderMiniMax, syntax: { open: OPEN, close: CLOSE, parseBlock: parseMiniMaxBlock }, thinkStart: 'prompt' });
