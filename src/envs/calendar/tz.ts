// Time zone arithmetic on top of Intl.DateTimeFormat: wall-clock parts of an instant in a zone,
// the instant of a wall-clock time in a zone (DST gaps resolve forward), ISO 8601 with offsets.

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

export function isValidZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function intlLocal(ms: number, zone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

// Offsets change only on half-hour boundaries of UTC (true of every zone with DST), so one Intl
// call per zone and half hour is enough; everything else is arithmetic.
const HALF_HOUR = 1_800_000;
/** Offsets by zone, then by half hour (seeding asks thousands of times per episode: no string keys). */
const offsets = new Map<string, Map<number, number>>();
let cachedOffsets = 0;

/** Minutes the zone is ahead of UTC at that instant (London in summer: 60; New York in winter: -300). */
export function offsetMinutes(ms: number, zone: string): number {
  const bucket = Math.floor(ms / HALF_HOUR) * HALF_HOUR;
  let byBucket = offsets.get(zone);
  if (!byBucket) offsets.set(zone, (byBucket = new Map()));
  let offset = byBucket.get(bucket);
  if (offset === undefined) {
    const l = intlLocal(bucket, zone);
    offset = Math.round((Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - bucket) / 60_000);
    if (cachedOffsets >= 200_000) {
      offsets.clear();
      cachedOffsets = 0;
      offsets.set(zone, (byBucket = new Map()));
    }
    byBucket.set(bucket, offset);
    cachedOffsets += 1;
  }
  return offset;
}

export function toLocal(ms: number, zone: string): LocalTime {
  const d = new Date(ms + offsetMinutes(ms, zone) * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: ((d.getUTCDay() + 6) % 7) + 1 };
}

/**
 * The instant a wall-clock time happens in a zone. Times skipped by a spring-forward gap move
 * forward by the gap (01:30 on the night London springs forward is 02:30 BST); repeated times in
 * the autumn take the later occurrence.
 */
export function fromLocal(local: { year: number; month: number; day: number; hour: number; minute: number }, zone: string): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const before = offsetMinutes(naive - 86_400_000, zone);
  const after = offsetMinutes(naive + 86_400_000, zone);
  // A reading is real when the zone has that offset at the instant it names.
  const offsets = [...new Set([before, after])];
  const readings = offsets.map((o) => naive - o * 60_000).filter((ms, i) => offsetMinutes(ms, zone) === offsets[i]);
  if (readings.length > 0) return Math.max(...readings);
  // In a gap: read it with the offset from before the change, which lands after the gap.
  return naive - before * 60_000;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

export function formatOffset(minutes: number): string {
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/** `2026-03-24T10:00:00-04:00`: the instant as wall-clock time in the zone, with the zone's offset then. */
export function formatIso(ms: number, zone: string): string {
  const l = toLocal(ms, zone);
  return `${l.year}-${pad(l.month)}-${pad(l.day)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${formatOffset(offsetMinutes(ms, zone))}`;
}

const DAY_NAMES = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Tue 24 Mar 10:00–10:30` in the zone, for humans reading a slot. */
export function describeRange(startMs: number, endMs: number, zone: string): string {
  const s = toLocal(startMs, zone);
  const e = toLocal(endMs, zone);
  const sameDay = s.year === e.year && s.month === e.month && s.day === e.day;
  const end = sameDay ? `${pad(e.hour)}:${pad(e.minute)}` : `${DAY_NAMES[e.weekday]} ${e.day} ${MONTH_NAMES[e.month - 1]} ${pad(e.hour)}:${pad(e.minute)}`;
  return `${DAY_NAMES[s.weekday]} ${s.day} ${MONTH_NAMES[s.month - 1]} ${pad(s.hour)}:${pad(s.minute)}–${end} (${zone})`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses ISO 8601 with an offset or Z; returns an error message instead of guessing a zone. */
export function parseIso(text: string): { ms: number } | { error: string } {
  const m = ISO.exec(text.trim());
  if (!m) {
    const hint = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(text.trim()) ? ' — it has no offset; add one, e.g. "+01:00" or "Z"' : '';
    return { error: `"${text}" is not an ISO 8601 date-time with an offset like 2026-03-24T10:00:00+01:00${hint}` };
  }
  const [, y, mo, d, h, mi, s, off] = m as unknown as [string, string, string, string, string, string, string | undefined, string];
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  const check = new Date(wall);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59) return { error: `"${text}" is not a real date and time` };
  const offset = off === 'Z' ? 0 : (off.startsWith('-') ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
  return { ms: wall - offset * 60_000 };
}

/** Minutes since local midnight. */
export function minuteOfDay(l: LocalTime): number {
  return l.hour * 60 + l.minute;
}

export function parseClock(text: string): number {
  const [h, m] = text.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function localDate(l: LocalTime): string {
  return `${l.year}-${pad(l.month)}-${pad(l.day)}`;
}
