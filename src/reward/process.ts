// Process measures over one attempt's tool calls. Each is a count, defined so that a reader can
// check it against the transcript by hand:
//   tool_errors     results the tool marked as an error (unknown tool, bad arguments, a failure).
//   repeated_calls  calls with the same tool name and the same arguments (as JSON, key order
//                   ignored) as an earlier call in the attempt; each repeat counts once.
//   useless_calls   calls that brought nothing: the result was an error, or it was identical to
//                   the result of the latest earlier identical call (read again, unchanged since).
//                   A repeat whose result differs (tests re-run after an edit) is not useless.
import { stableStringify } from '../core/index.ts';
import type { ToolUse } from './trace.ts';

export interface ProcessCounts {
  toolCalls: number;
  toolErrors: number;
  repeatedCalls: number;
  uselessCalls: number;
  /** Up to a few examples per measure, for the term's detail: the tool and its arguments. */
  examples: { repeated: string[]; useless: string[] };
}

const EXAMPLES = 3;

/** Arguments as a comparable key: parsed JSON re-serialised with sorted keys, else the text as written. */
function argumentKey(text: string): string {
  try {
    return stableStringify(JSON.parse(text));
  } catch (_error) {
    return `text:${text}`;
  }
}

const shortly = (use: ToolUse) => `${use.name}(${use.arguments.length > 120 ? `${use.arguments.slice(0, 117)}...` : use.arguments})`;

export function processCounts(tools: readonly ToolUse[]): ProcessCounts {
  // call key → the latest successful result of that call (null: made, but never succeeded).
  const seen = new Map<string, string | null>();
  const counts: ProcessCounts = { toolCalls: tools.length, toolErrors: 0, repeatedCalls: 0, uselessCalls: 0, examples: { repeated: [], useless: [] } };
  for (const use of tools) {
    const key = `${use.name}\u0000${argumentKey(use.arguments)}`;
    const made = seen.has(key);
    const latest = seen.get(key) ?? null;
    if (made) {
      counts.repeatedCalls++;
      if (counts.examples.repeated.length < EXAMPLES) counts.examples.repeated.push(shortly(use));
    }
    const failed = use.result !== null && !use.result.ok;
    if (failed) counts.toolErrors++;
    const unchanged = use.result !== null && use.result.ok && latest !== null && latest === use.result.content;
    if (failed || unchanged) {
      counts.uselessCalls++;
      if (counts.examples.useless.length < EXAMPLES) counts.examples.useless.push(shortly(use));
    }
    if (use.result?.ok) seen.set(key, use.result.content);
    else if (!made) seen.set(key, null);
  }
  return counts;
}
