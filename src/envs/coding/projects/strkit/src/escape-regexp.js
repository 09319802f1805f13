// Escapes every character that has a meaning in a regular expression, so the result matches
// `str` literally: \ ^ $ . * + ? ( ) [ ] { } |
export function escapeRegExp(str) {
  return str.replace(/[.*+?^${}()[\]]/g, '\\$&');
}
