// 'ada king-lovelace' -> 'AKL': the first letter of each name part, upper case. Parts are
// separated by whitespace or hyphens.
export function initials(name) {
  return name
    .trim()
    .split(/\s+/)
    .map((part) => part[0].toUpperCase())
    .join('');
}
