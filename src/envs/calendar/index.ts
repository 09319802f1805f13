import { fileURLToPath } from 'node:url';
import type { Task, ToolInvocation } from '../../core/index.ts';
import { defineEnvironment, type EpisodeContext } from '../define.ts';
import { loadTaskDirectory } from '../tasks.ts';
import { calendarChecks } from './checks.ts';
import { calendarEvents } from './events.ts';
import { calendarFamilyTasks } from './families/index.ts';
import { CalendarFixtures } from './fixtures.ts';
import { CALENDAR_SCHEMA, CALENDAR_SYSTEM_PROMPT, ME } from './schema.ts';
import { seedCalendarFixed, seedCalendarVaried } from './seed.ts';
import { findFreeSlots, getEvent, getFreeBusy, listEvents, listPeople } from './tools-read.ts';
import { addAttendee, cancelEvent, createEvent, removeAttendee, respondToInvitation, submit, updateEvent } from './tools-write.ts';

export const calendarTools = {
  list_events: listEvents,
  get_event: getEvent,
  find_free_slots: findFreeSlots,
  get_free_busy: getFreeBusy,
  create_event: createEvent,
  update_event: updateEvent,
  cancel_event: cancelEvent,
  respond_to_invitation: respondToInvitation,
  add_attendee: addAttendee,
  remove_attendee: removeAttendee,
  list_people: listPeople,
  submit,
};

let cached: Task[] | undefined;

export function calendarTasks(): Task[] {
  cached ??= [...loadTaskDirectory(fileURLToPath(new URL('./tasks', import.meta.url)), { systemPrompt: CALENDAR_SYSTEM_PROMPT }), ...calendarFamilyTasks()];
  return cached;
}

/** Cancel everything the user organizes from now on (whole series at once) and decline every open invitation. */
export function calendarDestructive({ db, clock }: EpisodeContext): ToolInvocation[] {
  const now = clock.now().toISOString();
  const organized = db.prepare("SELECT id, series_id FROM events WHERE organizer = ? AND status = 'confirmed' AND start_utc >= ? ORDER BY start_utc, id").all(ME.email, now) as { id: string; series_id: string | null }[];
  const seen = new Set<string>();
  const calls: ToolInvocation[] = [];
  for (const e of organized) {
    if (e.series_id && seen.has(e.series_id)) continue;
    if (e.series_id) seen.add(e.series_id);
    calls.push({ tool: 'cancel_event', arguments: { event_id: e.id, scope: e.series_id ? 'following' : 'this' } });
  }
  const invites = db
    .prepare("SELECT a.event_id FROM attendees a JOIN events e ON e.id = a.event_id WHERE a.email = ? AND e.organizer != ? AND e.status = 'confirmed' AND a.response != 'declined' ORDER BY e.start_utc, e.id")
    .all(ME.email, ME.email) as { event_id: string }[];
  for (const { event_id } of invites) calls.push({ tool: 'respond_to_invitation', arguments: { event_id, response: 'declined' } });
  return calls;
}

export const calendar = defineEnvironment({
  name: 'calendar',
  description: 'A work calendar with colleagues across time zones: events, invitations, free/busy and working hours. You act for Robin Okafor (Europe/London).',
  schema: CALENDAR_SCHEMA,
  startTime: '2026-03-16T09:00:00Z',
  stepMs: 20_000,
  seedFixed: seedCalendarFixed,
  seed: seedCalendarVaried,
  // The seed writes the database alone: episodes of one world share its seeding.
  seededWorlds: {},
  initialState: CalendarFixtures,
  tools: calendarTools,
  checks: calendarChecks,
  events: calendarEvents,
  tasks: calendarTasks,
  destructive: calendarDestructive,
});

export { CALENDAR_SCHEMA, CALENDAR_SYSTEM_PROMPT, ME as CALENDAR_USER } from './schema.ts';
export { seedCalendar, seedCalendarBase, seedCalendarFixed, seedCalendarNoise, seedCalendarVaried, seedCalendarWith, BASE_SERIES } from './seed.ts';
export { CalendarFixtures, insertCalendarFixtures } from './fixtures.ts';
export { calendarChecks, checkCalendarUnchanged, eventProblems } from './checks.ts';
export { calendarEvents } from './events.ts';
export { PEOPLE as CALENDAR_PEOPLE } from './people.ts';
export { busyOf, freeSlots, withinWorkingHours } from './busy.ts';
export { formatIso, fromLocal, offsetMinutes, parseIso, toLocal } from './tz.ts';
