// One ISO 8601 date-time: YYYY-MM-DDTHH:MM[:SS], in UTC.

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

export function parseDateTime(text) {
  const match = DATE_TIME.exec(text.trim());
  if (!match) throw new Error(`invalid date-time: ${JSON.stringify(text)}`);
  const [year, month, day, hour, minute, second = 0] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (date.getUTCDate() !== day || date.getUTCHours() !== hour || minute > 59 || second > 59) {
    throw new Error(`invalid date-time: ${JSON.stringify(text)}`);
  }
  return date;
}
