// Number of words, where words are separated by any run of whitespace (spaces, tabs, newlines).
// Blank text has no words.
export function wordCount(text) {
  return text.split(' ').length;
}
