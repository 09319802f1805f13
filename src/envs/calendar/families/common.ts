import Database from 'better-sqlite3';
import type { Task } from '../../../core/index.ts';
import { familyTask, type FamilyTaskSpec } from '../../families.ts';
import { freeSlots, MINUTE } from '../busy.ts';
import { CalendarFixtures, insertCalendarFixtures, type CalendarFixturesInput, type EventFixture } from '../fixtures.ts';
import { PEOPLE } from '../people.ts';
import { CALENDAR_SCHEMA, CALENDAR_SYSTEM_PROMPT, ME, peopleOf } from '../schema.ts';
import { BASE_SERIES } from '../seed.ts';
import { formatIso } from '../tz.ts';
import { insertEvent, insertPerson, insertSeries } from '../write.ts';
import { withStatementCache } from '../../images.ts';

export type CalendarTaskSpec = FamilyTaskSpec<CalendarFixturesInput>;

export function calendarTask(spec: CalendarTaskSpec): Task {
  return familyTask({ name: 'calendar', systemPrompt: CALENDAR_SYSTEM_PROMPT }, spec);
}

export { step } from '../../families.ts';

/** London wall time as ISO with its offset, for golden arguments. */
export const london = (ms: number): string => formatIso(ms, ME.time_zone);

/**
 * The world without seeded noise: people, the base recurring calendar and the fixtures. Task
 * generators plan golden slots here; `keep_free` keeps the noise out of those windows at run time.
 */
export function planningWorld(fixtures: CalendarFixturesInput): Database.Database {
  const db = withStatementCache(new Database(':memory:'));
  db.exec(CALENDAR_SCHEMA);
  for (const p of PEOPLE) insertPerson(db, p);
  for (const s of BASE_SERIES) insertSeries(db, s, { at: '2026-02-16T00:00:00.000Z', by: s.organizer });
  insertCalendarFixtures(db, CalendarFixtures.parse(fixtures), { at: '2026-02-16T00:00:00.000Z' });
  return db;
}

/** The first free slot for everyone (you included) in the window, booked into the planning world so later picks avoid it. */
export function bookFirstSlot(db: Database.Database, booking: { id: string; title: string; attendees: string[]; from: number; to: number; minutes: number; step?: number }): { start: number; end: number } {
  const people = peopleOf(db).filter((p) => p.email === ME.email || booking.attendees.includes(p.email));
  const slot = freeSlots(db, { people, from: booking.from, to: booking.to, durationMs: booking.minutes * MINUTE, stepMs: (booking.step ?? 30) * MINUTE })[0];
  if (!slot) throw new Error(`no free slot for ${booking.title}`);
  insertEvent(db, { id: booking.id, title: booking.title, organizer: ME.email, start: slot.start, end: slot.end, timeZone: ME.time_zone, attendees: booking.attendees.map((email) => ({ email, response: 'needs_action' })), at: '2026-03-16T09:00:00.000Z', by: ME.email });
  return slot;
}

export const utc = (text: string): number => Date.parse(text);
export const pad = (n: number): string => String(n).padStart(2, '0');

/** A fixture event at London wall-clock times on `day` ("2026-03-24", "10:00", "10:30"). */
export function londonEvent(e: { id: string; title: string; organizer: string; day: string; from: string; to: string; attendees?: (string | { email: string; response: 'needs_action' | 'accepted' | 'declined' | 'tentative' })[]; description?: string; location?: string }): EventFixture {
  return {
    id: e.id,
    title: e.title,
    organizer: e.organizer,
    start: `${e.day}T${e.from}`,
    end: `${e.day}T${e.to}`,
    time_zone: 'Europe/London',
    attendees: e.attendees ?? [],
    ...(e.description ? { description: e.description } : {}),
    ...(e.location ? { location: e.location } : {}),
  };
}

/** Every event the user attends in [from, to) in the noise-free planning world, in list_events order. */
export function myEventsBetween(db: Database.Database, from: string, to: string): { id: string }[] {
  return db
    .prepare("SELECT e.id FROM events e JOIN attendees a ON a.event_id = e.id WHERE a.email = ? AND e.status = 'confirmed' AND e.start_utc < ? AND e.end_utc > ? ORDER BY e.start_utc, e.id")
    .all(ME.email, new Date(Date.parse(to)).toISOString(), new Date(Date.parse(from)).toISOString()) as { id: string }[];
}
