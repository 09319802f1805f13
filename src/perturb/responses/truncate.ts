// responses.truncate: long results are cut, with a cursor for the rest and a tool that reads on.
// Nothing is lost: following the cursors gives back every character, in order.
import { z } from 'zod';
import type { ToolOutcome, ToolSpec } from '../../core/index.ts';
import { definePerturbation, type LayerSession, type ToolLayer } from '../types.ts';

const NAMES = ['read_more', 'read_more_output', 'continue_output'] as const;
const CURSOR_NAMES = ['cursor', 'part_id', 'continuation_id'] as const;

function cut(text: string, maxChars: number, cursor: () => { id: string; keep(rest: string): void }, tool: string, param: string): string {
  if (text.length <= maxChars) return text;
  // Never split a surrogate pair.
  let end = maxChars;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  const rest = text.slice(end);
  const next = cursor();
  next.keep(rest);
  return `${text.slice(0, end)}\n[… ${rest.length} more characters not shown. Call ${tool} with {"${param}": "${next.id}"} to continue.]`;
}

/**
 * The layer cutting results below `maxChars`; its tool and parameter avoid `retired` names (an
 * environment's `cursor` renamed away must not come back as this tool's parameter).
 */
export function truncationLayer(below: readonly ToolSpec[], options: { maxChars: number; retired?: ReadonlySet<string> }): ToolLayer {
  const taken = new Set(below.map((t) => t.name));
  const retired = options.retired ?? new Set<string>();
  const name = NAMES.find((n) => !taken.has(n) && !retired.has(n)) ?? `read_more_${below.length}`;
  const param = CURSOR_NAMES.find((n) => !retired.has(n)) ?? 'read_more_cursor';
  const spec: ToolSpec = {
    name,
    description: 'Read the next part of a result that was cut short, by the cursor the result ended with.',
    parameters: { type: 'object', properties: { [param]: { type: 'string', description: 'the cursor named at the end of the cut result' } }, required: [param] },
  };
  const open = (): LayerSession => {
    const pending = new Map<string, string>();
    let issued = 0;
    const cursor = () => {
      const id = `c${++issued}`;
      return { id, keep: (rest: string) => void pending.set(id, rest) };
    };
    return {
      async call(tool, args, callBelow) {
        if (tool === name) {
          const id = args[param];
          const rest = typeof id === 'string' ? pending.get(id) : undefined;
          if (rest === undefined) {
            const known = [...pending.keys()];
            return { ok: false, kind: 'tool_error', error: `${name}: no pending result with cursor ${JSON.stringify(id ?? null)}${known.length > 0 ? `; open cursors: ${known.join(', ')}` : ''}` };
          }
          pending.delete(id as string);
          return { ok: true, content: cut(rest, options.maxChars, cursor, name, param) };
        }
        const outcome: ToolOutcome = await callBelow(tool, args);
        return outcome.ok ? { ...outcome, content: cut(outcome.content, options.maxChars, cursor, name, param) } : outcome;
      },
    };
  };
  return { tools: [...below, spec], lift: (steps) => [...steps], lower: (call) => call, open };
}

export const truncate = definePerturbation({
  id: 'responses.truncate',
  family: 'responses',
  summary: 'cuts results longer than maxChars and adds a tool that reads on from a cursor',
  randomised: () => false,
  params: z.object({ maxChars: z.number().int().min(200).max(100_000).default(1500) }).strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply: (target, { params }) => ({ layer: truncationLayer(target.tools, { maxChars: params.maxChars, ...(target.retired ? { retired: target.retired } : {}) }) }),
});
