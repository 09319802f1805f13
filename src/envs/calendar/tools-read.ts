import { z } from 'zod';
import { defineTool, ToolError } from '../define.ts';
import { busyOf, DAY, freeSlots, isoToMs, MINUTE } from './busy.ts';
import { ME, peopleOf, personByEmail, requireEvent, resolvePerson, type EventRow, type PersonRow } from './schema.ts';
import { describeRange, formatIso } from './tz.ts';
import { decodeCursor, encodeCursor, eventDetail, eventSummary, requireZone, workingHours } from './view.ts';

const Iso = z.string().describe('ISO 8601 with an offset, e.g. 2026-03-24T10:00:00+01:00 or 2026-03-24T09:00:00Z');
const Zone = z.string().optional().describe('IANA time zone for the times shown (default: yours, Europe/London)');

function window(startText: string, endText: string, maxDays: number): { from: number; to: number } {
  const from = isoToMs(startText, 'window_start');
  const to = isoToMs(endText, 'window_end');
  if (to <= from) throw new ToolError(`window_end (${endText}) must be after window_start (${startText})`);
  if (to - from > maxDays * DAY) throw new ToolError(`the window is longer than ${maxDays} days; ask for a shorter one`);
  return { from, to };
}

function resolveAll(db: Parameters<typeof resolvePerson>[0], names: string[]): PersonRow[] {
  const out: PersonRow[] = [];
  for (const n of names) {
    const p = resolvePerson(db, n);
    if (!out.some((o) => o.email === p.email)) out.push(p);
  }
  return out;
}

export const listEvents = defineTool({
  description: "List events on a calendar (yours by default, or a colleague's by email or name) that overlap a time range, earliest first. Paginated: pass next_cursor for more.",
  input: z.object({
    calendar: z.string().optional().describe('whose calendar: an email or full name (default: yours)'),
    start: Iso.optional().describe('range start (default: now)'),
    end: Iso.optional().describe('range end (default: 7 days after start)'),
    query: z.string().optional().describe('only events whose title contains this text'),
    include_cancelled: z.boolean().default(false),
    time_zone: Zone,
    limit: z.number().int().min(1).max(25).default(15),
    cursor: z.string().optional(),
  }),
  run: (input, { db, clock }) => {
    const owner = input.calendar ? resolvePerson(db, input.calendar) : (personByEmail(db, ME.email) as PersonRow);
    const from = input.start ? isoToMs(input.start, 'start') : clock.now().getTime();
    const to = input.end ? isoToMs(input.end, 'end') : from + 7 * DAY;
    if (to <= from) throw new ToolError(`end (${input.end ?? ''}) must be after start`);
    if (to - from > 62 * DAY) throw new ToolError('the range is longer than 62 days; ask for a shorter one');
    const zone = requireZone(input.time_zone, owner.time_zone);
    const offset = decodeCursor('list_events', input.cursor);
    const needle = input.query?.trim().toLowerCase() ?? '';
    const rows = (
      db
        .prepare(
          `SELECT e.* FROM events e JOIN attendees a ON a.event_id = e.id
           WHERE a.email = ? AND e.start_utc < ? AND e.end_utc > ? ORDER BY e.start_utc, e.id`,
        )
        .all(owner.email, new Date(to).toISOString(), new Date(from).toISOString()) as EventRow[]
    ).filter((e) => (input.include_cancelled || e.status === 'confirmed') && (!needle || e.title.toLowerCase().includes(needle)));
    const page = rows.slice(offset, offset + input.limit);
    return {
      calendar: `${owner.name} <${owner.email}>`,
      time_zone: zone,
      range: { start: formatIso(from, zone), end: formatIso(to, zone) },
      total: rows.length,
      events: page.map((e) => eventSummary(db, e, zone)),
      next_cursor: offset + input.limit < rows.length ? encodeCursor('list_events', offset + input.limit) : null,
    };
  },
});

export const getEvent = defineTool({
  description: 'Full details of one event: attendees and their responses, description, location, recurrence, and its time in the zone it was planned in.',
  input: z.object({ event_id: z.string().min(1), time_zone: Zone }),
  run: ({ event_id, time_zone }, { db }) => eventDetail(db, requireEvent(db, event_id), requireZone(time_zone, ME.time_zone)),
});

export const findFreeSlots = defineTool({
  description:
    "Find start times where every attendee (and you, unless include_me is false) is free and inside their own working hours in their own time zone. Scans the window on a grid of step_minutes; paginated with next_cursor.",
  input: z.object({
    attendees: z.array(z.string().min(1)).min(1).max(12).describe('emails or full names'),
    duration_minutes: z.number().int().min(5).max(480),
    window_start: Iso,
    window_end: Iso,
    include_me: z.boolean().default(true),
    step_minutes: z.union([z.literal(15), z.literal(30), z.literal(60)]).default(30),
    time_zone: Zone,
    limit: z.number().int().min(1).max(20).default(10),
    cursor: z.string().optional(),
  }),
  run: (input, { db }) => {
    const { from, to } = window(input.window_start, input.window_end, 14);
    const people = resolveAll(db, [...(input.include_me ? [ME.email] : []), ...input.attendees]);
    const zone = requireZone(input.time_zone, ME.time_zone);
    const slots = freeSlots(db, { people, from, to, durationMs: input.duration_minutes * MINUTE, stepMs: input.step_minutes * MINUTE });
    const offset = decodeCursor('find_free_slots', input.cursor);
    return {
      time_zone: zone,
      participants: people.map((p) => ({ name: p.name, email: p.email, working_hours: workingHours(p) })),
      total: slots.length,
      slots: slots.slice(offset, offset + input.limit).map((s) => ({
        start: formatIso(s.start, zone),
        end: formatIso(s.end, zone),
        local: Object.fromEntries(people.filter((p) => p.time_zone !== zone).map((p) => [p.name, describeRange(s.start, s.end, p.time_zone)])),
      })),
      next_cursor: offset + input.limit < slots.length ? encodeCursor('find_free_slots', offset + input.limit) : null,
    };
  },
});

export const getFreeBusy = defineTool({
  description: "When people are busy in a window (no titles for other people's events), with their time zone and working hours.",
  input: z.object({ people: z.array(z.string().min(1)).min(1).max(12), window_start: Iso, window_end: Iso, time_zone: Zone }),
  run: (input, { db }) => {
    const { from, to } = window(input.window_start, input.window_end, 14);
    const zone = requireZone(input.time_zone, ME.time_zone);
    return {
      time_zone: zone,
      people: resolveAll(db, input.people).map((p) => ({
        name: p.name,
        email: p.email,
        working_hours: workingHours(p),
        busy: busyOf(db, p.email, { from, to }).map((b) => ({ start: formatIso(b.start, zone), end: formatIso(b.end, zone), ...(p.email === ME.email ? { title: b.title, event_id: b.eventId } : {}) })),
      })),
    };
  },
});

export const listPeople = defineTool({
  description: 'People in the company directory (and known guests): name, email, team, home time zone and working hours. Filter with a name, email, team or zone fragment.',
  input: z.object({ query: z.string().optional() }),
  run: ({ query }, { db }) => {
    const needle = query?.trim().toLowerCase() ?? '';
    const people = peopleOf(db).filter((p) => !needle || `${p.name} ${p.email} ${p.team} ${p.time_zone}`.toLowerCase().includes(needle));
    return { people: people.map((p) => ({ name: p.name, email: p.email, team: p.team, time_zone: p.time_zone, working_hours: workingHours(p), ...(p.email === ME.email ? { you: true } : {}), ...(p.external ? { external: true } : {}) })) };
  },
});
