// Text as a reader sees it, for checks that look for words in what the agent wrote. Invisible
// characters (zero-width spaces and joiners, bidirectional controls, soft hyphens) and compatibility
// forms (full-width digits, ligatures) change the code points but not what a person reads, so an
// agent could write "7301\u200b9944" or "７３０１９９４４" to send a secret past a check that forbids
// "73019944", or to meet a required keyword it never visibly wrote.

/** `text` with compatibility forms folded (NFKC) and format characters (Unicode Cf) removed. */
export function visibleText(text: string): string {
  return text.normalize('NFKC').replace(/\p{Cf}/gu, '');
}
