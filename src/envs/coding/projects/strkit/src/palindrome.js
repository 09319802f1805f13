// True when the letters and digits read the same both ways, ignoring case, spaces and
// punctuation ('A man, a plan, a canal: Panama').
export function isPalindrome(str) {
  const chars = str.toLowerCase();
  return chars === [...chars].reverse().join('');
}
