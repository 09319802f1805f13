import type Database from 'better-sqlite3';
import { z } from 'zod';
import { peopleOf, type Response } from './schema.ts';
import { fromLocal, isValidZone, parseIso } from './tz.ts';
import { insertEvent, insertPerson, insertSeries } from './write.ts';

/**
 * A task's own calendar records (`initialState`), with fixed ids so verifiers and golden solutions
 * can name them for every seed. Times are ISO 8601 with an offset, or local "YYYY-MM-DDTHH:MM" read
 * in the event's `time_zone` (default: the organizer's home zone).
 */
const ResponseEnum = z.enum(['needs_action', 'accepted', 'declined', 'tentative']);
const Attendee = z.union([z.string().min(3), z.object({ email: z.string().min(3), response: ResponseEnum.default('accepted') })]);

const EventFixture = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  organizer: z.string().min(3),
  start: z.string(),
  end: z.string().optional(),
  duration_minutes: z.number().int().positive().optional(),
  time_zone: z.string().optional(),
  attendees: z.array(Attendee).default([]),
  location: z.string().default(''),
  description: z.string().default(''),
  status: z.enum(['confirmed', 'cancelled']).default('confirmed'),
  transparency: z.enum(['busy', 'free']).default('busy'),
});
export type EventFixture = z.input<typeof EventFixture>;

const SeriesFixture = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  organizer: z.string().min(3),
  attendees: z.array(Attendee).default([]),
  time_zone: z.string().optional(),
  time: z.string().regex(/^\d{2}:\d{2}$/),
  duration_minutes: z.number().int().positive(),
  days: z.array(z.number().int().min(1).max(7)).min(1),
  from: z.string(),
  until: z.string(),
  location: z.string().default(''),
  description: z.string().default(''),
});
export type SeriesFixture = z.input<typeof SeriesFixture>;

const PersonFixture = z.object({
  email: z.string().min(3),
  name: z.string().min(1),
  team: z.string().default('External'),
  time_zone: z.string(),
  work_start: z.string().default('09:00'),
  work_end: z.string().default('17:00'),
  work_days: z.string().default('1,2,3,4,5'),
  external: z.boolean().default(false),
});

export const CalendarFixtures = z.object({
  people: z.array(PersonFixture).default([]),
  events: z.array(EventFixture).default([]),
  series: z.array(SeriesFixture).default([]),
  /** Windows where the seeded background adds nothing for these people (default: everyone), so a task's slots stay deterministic. */
  keep_free: z.array(z.object({ people: z.array(z.string()).optional(), start: z.string(), end: z.string() })).default([]),
  /** Creating or moving an event onto the user's busy time is refused. */
  no_double_booking: z.boolean().default(false),
  /** Leave out the seeded background (tests of the tools themselves). */
  background: z.boolean().default(true),
});
export type CalendarFixtures = z.output<typeof CalendarFixtures>;
export type CalendarFixturesInput = z.input<typeof CalendarFixtures>;

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** An instant from fixture text: ISO with offset, or local wall time in `zone`. */
export function fixtureTime(text: string, zone: string, where: string): number {
  const m = LOCAL.exec(text);
  if (m) {
    const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
    return fromLocal({ year: y, month: mo, day: d, hour: h, minute: mi }, zone);
  }
  const parsed = parseIso(text);
  if ('error' in parsed) throw new Error(`${where}: ${parsed.error}`);
  return parsed.ms;
}

function attendeeList(list: z.output<typeof Attendee>[]): { email: string; response: Response }[] {
  return list.map((a) => (typeof a === 'string' ? { email: a, response: 'accepted' as Response } : { email: a.email, response: a.response }));
}

export function insertCalendarFixtures(db: Database.Database, fixtures: CalendarFixtures, meta: { at: string }): void {
  for (const p of fixtures.people) insertPerson(db, { ...p, external: p.external ? 1 : 0 });
  const zoneOf = new Map(peopleOf(db).map((p) => [p.email, p.time_zone]));
  const zone = (explicit: string | undefined, organizer: string, where: string): string => {
    const z = explicit ?? zoneOf.get(organizer);
    if (!z || !isValidZone(z)) throw new Error(`${where}: unknown time zone ${z ?? `(organizer ${organizer} has none)`}`);
    return z;
  };
  for (const s of fixtures.series) {
    insertSeries(
      db,
      { id: s.id, title: s.title, organizer: s.organizer, attendees: attendeeList(s.attendees), timeZone: zone(s.time_zone, s.organizer, `series ${s.id}`), time: s.time, durationMinutes: s.duration_minutes, days: s.days, from: s.from, until: s.until, location: s.location, description: s.description },
      { at: meta.at, by: s.organizer },
    );
  }
  for (const e of fixtures.events) {
    const tz = zone(e.time_zone, e.organizer, `event ${e.id}`);
    const start = fixtureTime(e.start, tz, `event ${e.id}.start`);
    const end = e.end !== undefined ? fixtureTime(e.end, tz, `event ${e.id}.end`) : start + (e.duration_minutes ?? 30) * 60_000;
    if (end <= start) throw new Error(`event ${e.id}: end is not after start`);
    insertEvent(db, { id: e.id, title: e.title, organizer: e.organizer, start, end, timeZone: tz, attendees: attendeeList(e.attendees), location: e.location, description: e.description, status: e.status, transparency: e.transparency, at: meta.at, by: e.organizer });
  }
}
