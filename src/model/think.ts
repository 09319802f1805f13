const OPEN = '<think>';
const CLOSE = '</think>';

export interface InlineThinkSplit {
  /** The reasoning text, or null when the content carries no think block. */
  reasoning: string | null;
  /** What the user sees: the content with the think block (and the blank lines after it) removed. */
  visible: string;
}

/**
 * Splits a leading `<think>…</think>` block off the content. Also handles a lone `</think>`
 * (templates that put `<think>` in the prompt, so the completion starts inside it) and an
 * unclosed `<think>` (generation cut off while thinking: everything is reasoning).
 */
export function splitInlineThink(content: string): InlineThinkSplit {
  const start = content.trimStart();
  if (start.startsWith(OPEN)) {
    const end = start.indexOf(CLOSE, OPEN.length);
    if (end === -1) return { reasoning: start.slice(OPEN.length).trim(), visible: '' };
    return { reasoning: start.slice(OPEN.length, end).trim(), visible: start.slice(end + CLOSE.length).trimStart() };
  }
  const end = content.indexOf(CLOSE);
  if (end !== -1 && !content.slice(0, end).includes(OPEN)) {
    return { reasoning: content.slice(0, end).trim(), visible: content.slice(end + CLOSE.length).trimStart() };
  }
  return { reasoning: null, visible: content };
}
