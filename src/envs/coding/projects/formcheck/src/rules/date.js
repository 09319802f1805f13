// A calendar date written YYYY-MM-DD that exists (no 2023-02-29), optionally not in the past.
export function date(value, { notBefore } = {}) {
  const text = String(value).trim();
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return 'must be a date written YYYY-MM-DD';
  const [year, month, day] = match.slice(1).map(Number);
  const parsed = new Date(Date.UTC(year, month - 1, day));
  if (parsed.getUTCFullYear() !== year || parsed.getUTCMonth() !== month - 1 || parsed.getUTCDate() !== day) return 'is not a real date';
  if (notBefore !== undefined && text < notBefore) return `must be ${notBefore} or later`;
  return null;
}
