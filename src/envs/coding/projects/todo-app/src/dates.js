// Calendar-day arithmetic on YYYY-MM-DD strings.

function dayNumber(date) {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

/** Whole days from `today` until `due` (negative when `due` is past). */
export function daysUntil(due, today) {
  return Math.round(dayNumber(due) - dayNumber(today)) + 1;
}

export function addDays(date, days) {
  return new Date((dayNumber(date) + days) * 86_400_000).toISOString().slice(0, 10);
}
