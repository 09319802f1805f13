import type Database from 'better-sqlite3';
import { ToolError } from '../define.ts';

/**
 * Calendar state. Times are stored as UTC ISO strings (`toISOString()`), each event keeps the zone
 * it was planned in; recurring series are stored as expanded instances sharing a `series_id`.
 * Every person has one calendar whose id is their email. Attendee rows include the organizer.
 */
export const CALENDAR_SCHEMA = `
CREATE TABLE people (
  email TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  team TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  work_start TEXT NOT NULL,
  work_end TEXT NOT NULL,
  work_days TEXT NOT NULL DEFAULT '1,2,3,4,5',
  external INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE calendars (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, time_zone TEXT NOT NULL);
CREATE TABLE calendar_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  calendar_id TEXT NOT NULL,
  series_id TEXT,
  recurrence TEXT,
  title TEXT NOT NULL,
  start_utc TEXT NOT NULL,
  end_utc TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  organizer TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
  transparency TEXT NOT NULL DEFAULT 'busy' CHECK (transparency IN ('busy', 'free')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE INDEX events_start ON events (start_utc);
CREATE INDEX events_series ON events (series_id);
CREATE TABLE attendees (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  email TEXT NOT NULL,
  response TEXT NOT NULL CHECK (response IN ('needs_action', 'accepted', 'declined', 'tentative')),
  note TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE INDEX attendees_event ON attendees (event_id);
CREATE INDEX attendees_email ON attendees (email);
`;

/** The person the agent acts for. */
export const ME = { email: 'robin.okafor@larkspur.example', name: 'Robin Okafor', team: 'Product', time_zone: 'Europe/London', work_start: '09:00', work_end: '17:30' } as const;

/** What every calendar task tells the agent: whose calendar, where they are and what time it is. */
export const CALENDAR_SYSTEM_PROMPT = [
  `You are the calendar assistant of ${ME.name} (${ME.email}, ${ME.team}) at Larkspur, who works from London (Europe/London, 09:00–17:30 Mon–Fri).`,
  'It is Monday 16 March 2026, 09:00 in London. Colleagues work in their own time zones and hours (list_people shows them).',
  'Times go in and come out as ISO 8601 with an offset, e.g. 2026-03-24T10:00:00+00:00. Create, move, cancel or answer nothing the request does not ask for.',
  'When you are done, call submit (with an answer if the request asked a question).',
].join('\n');

export type Response = 'needs_action' | 'accepted' | 'declined' | 'tentative';

export interface PersonRow {
  email: string;
  name: string;
  team: string;
  time_zone: string;
  work_start: string;
  work_end: string;
  work_days: string;
  external: number;
}

export interface EventRow {
  id: string;
  calendar_id: string;
  series_id: string | null;
  recurrence: string | null;
  title: string;
  start_utc: string;
  end_utc: string;
  time_zone: string;
  location: string;
  description: string;
  organizer: string;
  status: 'confirmed' | 'cancelled';
  transparency: 'busy' | 'free';
  created_at: string;
  updated_at: string;
  updated_by: string;
}

export interface AttendeeRow {
  id: string;
  event_id: string;
  email: string;
  response: Response;
  note: string;
  updated_at: string;
  updated_by: string;
}

export function peopleOf(db: Database.Database): PersonRow[] {
  return db.prepare('SELECT * FROM people ORDER BY name, email').all() as PersonRow[];
}

export function findEvent(db: Database.Database, id: string): EventRow | undefined {
  return db.prepare('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
}

export function requireEvent(db: Database.Database, id: string): EventRow {
  const event = findEvent(db, id);
  if (!event) throw new ToolError(`no event with id "${id}" (list_events shows event ids)`);
  return event;
}

export function attendeesOf(db: Database.Database, eventId: string): AttendeeRow[] {
  return db.prepare('SELECT * FROM attendees WHERE event_id = ? ORDER BY rowid').all(eventId) as AttendeeRow[];
}

/**
 * A person by email or unique full name (case-insensitive). Unknown company addresses and
 * ambiguous names are errors listing the candidates; other addresses are external guests.
 */
export function resolvePerson(db: Database.Database, raw: string, options: { allowExternal?: boolean } = {}): PersonRow {
  const people = peopleOf(db);
  const needle = raw.trim().toLowerCase();
  const exact = people.filter((p) => p.email.toLowerCase() === needle || p.name.toLowerCase() === needle);
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1) throw new ToolError(`"${raw}" matches several people: ${exact.map((p) => `${p.name} <${p.email}>`).join(', ')}; use an email`);
  const similar = people.filter((p) => p.name.toLowerCase().includes(needle) || needle.split(/[\s.@]+/).some((w) => w.length > 2 && p.name.toLowerCase().split(' ').includes(w)));
  const hint = similar.length > 0 ? `; similar: ${similar.map((p) => `${p.name} <${p.email}>`).join(', ')}` : '; list_people shows everyone';
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(needle)) {
    if (needle.endsWith('@larkspur.example')) throw new ToolError(`nobody at Larkspur has the address ${raw}${hint}`);
    if (options.allowExternal) return { email: needle, name: needle, team: 'External', time_zone: 'UTC', work_start: '00:00', work_end: '24:00', work_days: '1,2,3,4,5,6,7', external: 1 };
  }
  throw new ToolError(`unknown person "${raw}" (give an email or full name)${hint}`);
}

/** A task-level policy stored at seed time (so composed environments need not share initialState keys). */
export function setting(db: Database.Database, key: string): string | undefined {
  return (db.prepare('SELECT value FROM calendar_settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function personByEmail(db: Database.Database, email: string): PersonRow | undefined {
  return db.prepare('SELECT * FROM people WHERE email = ?').get(email) as PersonRow | undefined;
}
