import type Database from 'better-sqlite3';
import type { PersonRow, Response } from './schema.ts';
import { fromLocal, parseClock } from './tz.ts';

/** Low-level writers shared by the seed, task fixtures, tools and world events. */

export function insertPerson(db: Database.Database, p: PersonRow): void {
  db.prepare('INSERT OR REPLACE INTO people (email, name, team, time_zone, work_start, work_end, work_days, external) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    p.email,
    p.name,
    p.team,
    p.time_zone,
    p.work_start,
    p.work_end,
    p.work_days,
    p.external,
  );
  db.prepare('INSERT OR REPLACE INTO calendars (id, owner, name, time_zone) VALUES (?, ?, ?, ?)').run(p.email, p.email, p.name, p.time_zone);
}

export interface EventInsert {
  id: string;
  title: string;
  organizer: string;
  start: number;
  end: number;
  timeZone: string;
  attendees: { email: string; response: Response }[];
  location?: string;
  description?: string;
  status?: 'confirmed' | 'cancelled';
  transparency?: 'busy' | 'free';
  seriesId?: string | null;
  recurrence?: string | null;
  at: string;
  by: string;
}

/** Inserts an event on its organizer's calendar; the organizer is always an accepted attendee. */
export function insertEvent(db: Database.Database, e: EventInsert): void {
  db.prepare(
    `INSERT INTO events (id, calendar_id, series_id, recurrence, title, start_utc, end_utc, time_zone, location, description, organizer, status, transparency, created_at, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.id,
    e.organizer,
    e.seriesId ?? null,
    e.recurrence ?? null,
    e.title,
    new Date(e.start).toISOString(),
    new Date(e.end).toISOString(),
    e.timeZone,
    e.location ?? '',
    e.description ?? '',
    e.organizer,
    e.status ?? 'confirmed',
    e.transparency ?? 'busy',
    e.at,
    e.at,
    e.by,
  );
  const seen = new Set<string>();
  const all = [{ email: e.organizer, response: 'accepted' as Response }, ...e.attendees];
  const insert = db.prepare('INSERT INTO attendees (id, event_id, email, response, note, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const a of all) {
    if (seen.has(a.email)) continue;
    seen.add(a.email);
    insert.run(`${e.id}|${a.email}`, e.id, a.email, a.response, '', e.at, e.by);
  }
}

export interface SeriesSpec {
  id: string;
  title: string;
  organizer: string;
  attendees: { email: string; response: Response }[];
  timeZone: string;
  /** Local start time, "HH:MM". */
  time: string;
  durationMinutes: number;
  /** ISO weekdays, 1 = Monday. */
  days: number[];
  from: string;
  until: string;
  location?: string;
  description?: string;
  transparency?: 'busy' | 'free';
}

const DAY_LABELS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function describeRecurrence(days: number[], time: string, zone: string): string {
  const label = days.length === 5 && days.every((d, i) => d === i + 1) ? 'every weekday' : `weekly on ${days.map((d) => DAY_LABELS[d]).join(', ')}`;
  return `${label} at ${time} ${zone}`;
}

/** Expands a weekly series into instances at the same wall-clock time (so UTC shifts across DST). Ids: `<series>-<yyyymmdd>`. */
export function insertSeries(db: Database.Database, s: SeriesSpec, meta: { at: string; by: string }): string[] {
  const ids: string[] = [];
  const minutes = parseClock(s.time);
  for (let day = Date.parse(`${s.from}T00:00:00Z`); day <= Date.parse(`${s.until}T00:00:00Z`); day += 86_400_000) {
    const d = new Date(day);
    const weekday = ((d.getUTCDay() + 6) % 7) + 1;
    if (!s.days.includes(weekday)) continue;
    const start = fromLocal({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: Math.floor(minutes / 60), minute: minutes % 60 }, s.timeZone);
    const id = `${s.id}-${d.toISOString().slice(0, 10).replaceAll('-', '')}`;
    insertEvent(db, {
      id,
      title: s.title,
      organizer: s.organizer,
      start,
      end: start + s.durationMinutes * 60_000,
      timeZone: s.timeZone,
      attendees: s.attendees,
      location: s.location ?? '',
      description: s.description ?? '',
      transparency: s.transparency ?? 'busy',
      seriesId: s.id,
      recurrence: describeRecurrence(s.days, s.time, s.timeZone),
      ...meta,
    });
    ids.push(id);
  }
  return ids;
}
