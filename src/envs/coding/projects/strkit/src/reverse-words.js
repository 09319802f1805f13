// Reverses the order of the words; words are separated by runs of whitespace, the result joins
// them with single spaces and has no leading or trailing whitespace.
export function reverseWords(str) {
  return str.split(' ').reverse().join(' ');
}
