import type Database from 'better-sqlite3';
import type { Rng, Task } from '../../core/index.ts';
import type { EpisodeContext, FixedSeedContext } from '../define.ts';
import { BusyIndex, DAY, MINUTE, withinWorkingHours } from './busy.ts';
import { CalendarFixtures, fixtureTime, insertCalendarFixtures } from './fixtures.ts';
import { P, PEOPLE } from './people.ts';
import { ME, type PersonRow, type Response } from './schema.ts';
import { fromLocal, parseClock, toLocal } from './tz.ts';
import { insertEvent, insertPerson, insertSeries, type SeriesSpec } from './write.ts';

export const SERIES_FROM = '2026-03-02';
export const SERIES_UNTIL = '2026-04-24';
const WEEKDAYS = [1, 2, 3, 4, 5];
const accepted = (...emails: string[]) => emails.map((email) => ({ email, response: 'accepted' as Response }));

/** Recurring meetings every seed has, with stable instance ids (`standup-20260324`). */
export const BASE_SERIES: SeriesSpec[] = [
  { id: 'standup', title: 'Daily standup', organizer: P.priya, attendees: accepted(P.me, P.marcus, P.kofi, P.chen), timeZone: 'Europe/London', time: '09:30', durationMinutes: 15, days: WEEKDAYS, from: SERIES_FROM, until: SERIES_UNTIL, location: 'Meet: standup' },
  { id: 'product-sync', title: 'Product sync (London/NY)', organizer: P.me, attendees: accepted(P.jonah, P.ingrid, P.samC), timeZone: 'America/New_York', time: '11:00', durationMinutes: 45, days: [4], from: SERIES_FROM, until: SERIES_UNTIL, location: 'Meet: product-sync' },
  { id: 'ingrid-1on1', title: 'Robin / Ingrid 1:1', organizer: P.ingrid, attendees: accepted(P.me), timeZone: 'Europe/Oslo', time: '14:00', durationMinutes: 30, days: [2], from: SERIES_FROM, until: SERIES_UNTIL },
  { id: 'focus', title: 'Focus time', organizer: P.me, attendees: [], timeZone: 'Europe/London', time: '13:00', durationMinutes: 120, days: [3], from: SERIES_FROM, until: SERIES_UNTIL },
  { id: 'lunch', title: 'Lunch', organizer: P.me, attendees: [], timeZone: 'Europe/London', time: '12:30', durationMinutes: 45, days: WEEKDAYS, from: SERIES_FROM, until: SERIES_UNTIL, transparency: 'free' },
  { id: 'eng-weekly', title: 'Engineering weekly', organizer: P.marcus, attendees: accepted(P.priya, P.chen, P.kofi, P.tomas, P.me), timeZone: 'Europe/Stockholm', time: '15:00', durationMinutes: 60, days: [1], from: SERIES_FROM, until: SERIES_UNTIL },
  { id: 'apac-standup', title: 'Design standup (APAC)', organizer: P.hana, attendees: accepted(P.chen, P.samira), timeZone: 'Asia/Tokyo', time: '10:00', durationMinutes: 15, days: WEEKDAYS, from: SERIES_FROM, until: SERIES_UNTIL },
  { id: 'support-triage', title: 'Support triage', organizer: P.jonah, attendees: accepted(P.samW), timeZone: 'America/New_York', time: '09:30', durationMinutes: 30, days: [1, 3, 5], from: SERIES_FROM, until: SERIES_UNTIL },
  { id: 'data-hours', title: 'Data office hours', organizer: P.devika, attendees: [], timeZone: 'Asia/Kolkata', time: '15:00', durationMinutes: 60, days: [4], from: SERIES_FROM, until: SERIES_UNTIL },
];

const NOISE_TITLES = ['Vendor call', 'Budget check-in', 'Hiring debrief', 'Coffee chat', 'Roadmap review prep', 'Customer escalation sync', 'Design review', 'Contract review', 'Team retro', 'Sprint planning', 'Interview: backend engineer', 'Quarterly business review', 'Offsite planning', 'Partner onboarding', 'Security questionnaire review', 'Demo rehearsal', 'Analytics deep dive', 'Docs review'];
const NOISE_FROM = Date.parse('2026-03-16T00:00:00Z');
const NOISE_DAYS = 33;

interface Window {
  people: Set<string> | null;
  start: number;
  end: number;
}

/** One-off meetings that differ with the seed, kept out of the task's keep_free windows and off existing commitments. */
function seedNoise(ctx: EpisodeContext, windows: Window[]): void {
  const { db, rng, ids } = ctx;
  const people = PEOPLE.filter((p) => !p.external);
  const at = new Date(NOISE_FROM - 20 * DAY).toISOString();
  const busy = new BusyIndex(db);
  for (const organizer of people) {
    const wanted = rng.int(3, 8);
    for (let attempt = 0, placed = 0; attempt < wanted * 4 && placed < wanted; attempt++) {
      const slot = pickSlot(rng, organizer);
      if (!slot) continue;
      const guests = rng.shuffle(people.filter((p) => p.email !== organizer.email)).slice(0, rng.int(0, 3));
      const everyone = [organizer, ...guests];
      const blocked = everyone.some((p) => windows.some((w) => (w.people === null || w.people.has(p.email)) && slot.start < w.end && w.start < slot.end) || busy.isBusy(p.email, slot.start, slot.end));
      if (blocked) continue;
      const responses: Response[] = ['accepted', 'accepted', 'tentative', 'needs_action'];
      insertEvent(db, {
        id: ids.next('evt'),
        title: rng.pick(NOISE_TITLES),
        organizer: organizer.email,
        start: slot.start,
        end: slot.end,
        timeZone: organizer.time_zone,
        attendees: guests.map((g) => ({ email: g.email, response: g.email === ME.email ? rng.pick(['accepted', 'needs_action'] as Response[]) : rng.pick(responses) })),
        at,
        by: organizer.email,
      });
      // Confirmed and busy, and no guest here declines: everyone is now busy then.
      busy.add(everyone.map((p) => p.email), slot.start, slot.end);
      placed++;
    }
  }
}

function pickSlot(rng: Rng, p: PersonRow): { start: number; end: number } | undefined {
  const day = new Date(NOISE_FROM + rng.int(0, NOISE_DAYS) * DAY);
  const startMin = parseClock(p.work_start);
  const duration = rng.pick([30, 30, 45, 60, 90]);
  const latest = parseClock(p.work_end) - duration;
  if (latest <= startMin) return undefined;
  const minute = startMin + Math.floor(rng.int(0, Math.floor((latest - startMin) / 30) + 1)) * 30;
  const start = fromLocal({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(minute / 60), minute: minute % 60 }, p.time_zone);
  const slot = { start, end: start + duration * MINUTE };
  return withinWorkingHours(p, slot.start, slot.end) && toLocal(start, p.time_zone).weekday <= 5 ? slot : undefined;
}

function fixturesOf(task: Pick<Task, 'id' | 'initialState'>): CalendarFixtures {
  const parsed = CalendarFixtures.safeParse(task.initialState);
  if (!parsed.success) throw new Error(`task ${task.id}: initialState: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** People, the base recurring calendar, the task's fixtures (`initialState`), then seeded one-off meetings around them. */
export function seedCalendar(ctx: EpisodeContext): void {
  seedCalendarWith(ctx, fixturesOf(ctx.task));
}

/** The calendar's `seedFixed`: everything but the seeded one-off meetings, the same for every seed of a task. */
export function seedCalendarFixed(ctx: FixedSeedContext): void {
  seedCalendarBase(ctx.db, fixturesOf(ctx.task));
}

/** The calendar's `seed` after `seedCalendarFixed`: the one-off meetings that vary with the seed. */
export function seedCalendarVaried(ctx: EpisodeContext): void {
  seedCalendarNoise(ctx, fixturesOf(ctx.task));
}

/** The same from fixtures given directly, for environments that compose the calendar with others. */
export function seedCalendarWith(ctx: EpisodeContext, fixtures: CalendarFixtures): void {
  seedCalendarBase(ctx.db, fixtures);
  seedCalendarNoise(ctx, fixtures);
}

/** Settings, people, the base recurring meetings and the task's fixtures: nothing here depends on the seed. */
export function seedCalendarBase(db: Database.Database, fixtures: CalendarFixtures): void {
  // One transaction: hundreds of single-row inserts are much faster together.
  db.transaction(() => {
    const at = new Date(Date.parse(`${SERIES_FROM}T00:00:00Z`) - 14 * DAY).toISOString();
    db.prepare("INSERT INTO calendar_settings (key, value) VALUES ('no_double_booking', ?)").run(fixtures.no_double_booking ? 'true' : 'false');
    for (const p of PEOPLE) insertPerson(db, p);
    for (const s of BASE_SERIES) insertSeries(db, s, { at, by: s.organizer });
    insertCalendarFixtures(db, fixtures, { at });
  })();
}

/** The seeded one-off meetings, after `seedCalendarBase` (unless the fixtures turn the background off). */
export function seedCalendarNoise(ctx: EpisodeContext, fixtures: CalendarFixtures): void {
  if (!fixtures.background) return;
  ctx.db.transaction(() => {
    const windows = fixtures.keep_free.map((w) => ({ people: w.people ? new Set(w.people) : null, start: fixtureTime(w.start, 'UTC', 'keep_free.start'), end: fixtureTime(w.end, 'UTC', 'keep_free.end') }));
    seedNoise(ctx, windows);
  })();
}
