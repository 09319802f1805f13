// ISO 8601 intervals: start/end, where the end may give only a time of day.
import { parseDateTime } from './datetime.js';

const TIME_ONLY = /^\d{2}:\d{2}(?::\d{2})?$/;

export function parseRange(text) {
  const parts = String(text).split('/');
  if (parts.length !== 2) throw new Error(`expected start/end, got ${JSON.stringify(text)}`);
  const [startText, endText] = parts.map((p) => p.trim());
  const start = parseDateTime(startText);
  const endFull = TIME_ONLY.test(endText) ? `${startText.slice(0, 10)}T${endText}` : endText;
  const end = parseDateTime(endFull);
  if (end < start) throw new Error(`range ends before it starts: ${JSON.stringify(text)}`);
  return { start, end };
}

export function durationMinutes({ start, end }) {
  return Math.floor((end - start) / 60_000);
}

export function overlaps(a, b) {
  return a.start < b.end && b.start < a.end;
}
