// URL slugs: lower case; accents are dropped ('é' -> 'e'); every run of characters other than
// a-z and 0-9 becomes a single '-'; no '-' at either end.
export function slugify(str) {
  return str
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .replace(/^-+|-+$/g, '');
}
