// Splitting prose into sentences without cutting abbreviations, decimals or numbered items.

const ABBREVIATION = /(?:^|\s)(?:e\.g|i\.e|etc|vs|approx|Mr|Ms|Mrs|Dr|No|St)\.$/i;

/**
 * Sentences of a text. Only the whitespace between sentences goes; within one every character is
 * kept (two spaces or a no-break space inside a quoted name are part of what is asked for).
 */
export function sentencesOf(text: string): string[] {
  const pieces = text
    .trim()
    // A sentence ends at . ! ? after a non-digit (so "1." and "3.5" do not end one), before a capital or an opening mark.
    .split(/(?<=[^\s\d][.!?]["')]?)\s+(?=[A-Z("'`])/)
    .filter(Boolean);
  const out: string[] = [];
  for (const piece of pieces) {
    const last = out.at(-1);
    if (last !== undefined && ABBREVIATION.test(last)) out[out.length - 1] = `${last} ${piece}`;
    else out.push(piece);
  }
  return out;
}

/** Whether the text is laid out in lines (a list, code): rearranging its sentences could cut an item. */
export function isMultiline(text: string): boolean {
  return text.trim().includes('\n');
}
