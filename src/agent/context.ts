import type { Message } from '../core/index.ts';

/**
 * Context management: when the conversation outgrows `budgetTokens`, older turns are replaced by a
 * model-written summary. Off unless configured; when it happens it is a recorded model call
 * (purpose `summary`) and a `context_compacted` event, so training data sees the real context.
 */
export interface ContextPolicy {
  budgetTokens: number;
  /** Most recent assistant turns (with their tool results) kept verbatim. */
  keepRecentTurns: number;
}

/** Rough token count (≈4 characters a token) for budgeting when the engine reports none. */
export function estimateTokens(messages: readonly Message[]): number {
  let chars = 0;
  for (const m of messages) {
    chars += m.content.length + 8;
    if (m.role === 'assistant') {
      chars += m.reasoning?.text.length ?? 0;
      for (const call of m.toolCalls) chars += call.name.length + call.argumentsText.length + 8;
    }
  }
  return Math.ceil(chars / 4);
}

/** Splits history into (head kept, middle to summarise, recent kept); null when nothing can be cut. */
export function splitForSummary(
  history: readonly Message[],
  keepRecentTurns: number,
): { head: Message[]; middle: Message[]; recent: Message[] } | null {
  let headEnd = 0;
  while (headEnd < history.length && history[headEnd]!.role !== 'assistant') headEnd++;
  const assistantIdx: number[] = [];
  history.forEach((m, i) => m.role === 'assistant' && assistantIdx.push(i));
  if (assistantIdx.length <= keepRecentTurns) return null;
  const recentStart = assistantIdx[assistantIdx.length - keepRecentTurns] ?? history.length;
  if (recentStart <= headEnd) return null;
  return { head: history.slice(0, headEnd), middle: history.slice(headEnd, recentStart), recent: history.slice(recentStart) };
}

export function transcriptText(messages: readonly Message[]): string {
  return messages
    .map((m) => {
      if (m.role === 'assistant') {
        const calls = m.toolCalls.map((c) => `  call ${c.name}(${c.argumentsText})`).join('\n');
        return `assistant: ${m.content}${calls ? `\n${calls}` : ''}`;
      }
      if (m.role === 'tool') return `tool ${m.name}${m.isError ? ' (error)' : ''}: ${m.content.slice(0, 2000)}`;
      return `${m.role}: ${m.content}`;
    })
    .join('\n');
}

export const SUMMARY_INSTRUCTION =
  'Summarise the work so far for your own later use: what the task is, what has been done (with ids, names and values you will need), what was learned, and what remains. Be complete and precise; this replaces the earlier conversation.';
