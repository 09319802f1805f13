import { readJsonObject } from './chat.ts';
import { quoteText } from './coerce.ts';
import type { BlockContext, BlockResult } from './scanner.ts';
import type { FormatError, ParsedToolCall } from './types.ts';

// Kimi-K2 and DeepSeek-V3.1 share a shape inside their tool-call section: each call is
// `<begin>HEAD<sep>JSON ARGUMENTS<end>`, HEAD naming the function (DeepSeek) or carrying an id that
// does (Kimi). The engines hand the arguments text on as written; we parse it, keeping the text
// and saying so when it is not a JSON object.

export interface DelimitedCallSyntax {
  /** How messages name the section: `<｜tool▁calls▁begin｜> block 1`. */
  section: string;
  begin: string;
  sep: string;
  end: string;
  /** The call's name (and id, where the head is one) from the head text; `problem` when the head is not what the format expects. */
  head(text: string): { name: string; id?: string; problem?: string };
}

export function parseDelimitedCalls(body: string, context: BlockContext, syntax: DelimitedCallSyntax): BlockResult {
  const calls: ParsedToolCall[] = [];
  const errors: FormatError[] = [];
  const blockWhere = `${syntax.section} ${context.block}`;
  let pos = 0;
  while (true) {
    const start = body.indexOf(syntax.begin, pos);
    const gap = body.slice(pos, start < 0 ? body.length : start);
    if (gap.trim()) errors.push({ kind: 'stray_text', message: `${blockWhere}: text outside ${syntax.begin}…${syntax.end} ignored: ${quoteText(gap)}` });
    if (start < 0) break;
    const index = context.firstIndex + calls.length;
    const end = body.indexOf(syntax.end, start);
    const callText = body.slice(start + syntax.begin.length, end < 0 ? body.length : end);
    const sep = callText.indexOf(syntax.sep);
    const head = syntax.head((sep < 0 ? callText : callText.slice(0, sep)).trim());
    const where = `tool call ${index} (${blockWhere}, ${head.id !== undefined ? `id "${head.id}"` : `function "${head.name}"`})`;
    const idField = head.id !== undefined ? { id: head.id } : {};
    if (head.problem) errors.push({ kind: 'malformed_call', message: `${where}: ${head.problem}`, callIndex: index });
    if (sep < 0) {
      calls.push({ name: head.name, arguments: null, argumentsText: '', ...idField });
      errors.push({ kind: 'malformed_call', message: `${where}: no ${syntax.sep} before the arguments`, callIndex: index });
    } else {
      const text = callText.slice(sep + syntax.sep.length).trim();
      const read = text === '' ? { value: {} } : readJsonObject(text);
      const args = 'value' in read ? read.value : null;
      calls.push({ name: head.name, arguments: args, argumentsText: args === null ? text : JSON.stringify(args), ...idField });
      if ('problem' in read) errors.push({ kind: 'bad_json', message: `${where}: the arguments are not a JSON object (${read.problem}): ${quoteText(text)}`, callIndex: index });
    }
    if (end < 0) {
      errors.push({ kind: 'unclosed_block', message: `${where}: not closed by ${syntax.end}`, callIndex: index });
      break;
    }
    pos = end + syntax.end.length;
  }
  return { calls, errors };
}
