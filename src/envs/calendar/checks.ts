import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { JsonObject } from '../../core/index.ts';
import { defineCheck, type CheckOutput } from '../define.ts';
import { diffTable, rowsOf } from '../state.ts';
import { busyOf, MINUTE, withinWorkingHours } from './busy.ts';
import { attendeesOf, ME, personByEmail, type EventRow } from './schema.ts';
import { visibleText } from '../text.ts';
import { describeRange, parseIso } from './tz.ts';

const fail = (detail: string): CheckOutput => ({ passed: false, detail });
const ok = (detail?: string): CheckOutput => (detail ? { passed: true, detail } : { passed: true });

function normalise(text: string): string {
  return visibleText(text).toLowerCase().replace(/[\s,]+/g, ' ').trim();
}

function ms(text: string): number {
  const parsed = parseIso(text);
  if ('error' in parsed) throw new Error(`check parameter: ${parsed.error}`);
  return parsed.ms;
}

const Constraints = z.object({
  attendees: z.array(z.string()).default([]),
  /** No one besides `attendees` and the organizer. */
  exact_attendees: z.boolean().default(false),
  attendees_exclude: z.array(z.string()).default([]),
  duration_minutes: z.number().int().positive().optional(),
  /** The event starts at or after this instant. */
  after: z.string().optional(),
  /** The event ends at or before this instant. */
  before: z.string().optional(),
  start: z.string().optional(),
  within_working_hours: z.boolean().default(false),
  no_conflicts: z.boolean().default(false),
  title_contains: z.array(z.string()).default([]),
  location_contains: z.string().optional(),
  description_contains: z.array(z.string()).default([]),
});
type Constraints = z.output<typeof Constraints>;

/** Every way an event falls short of the constraints (empty when it meets them all). */
export function eventProblems(db: Database.Database, e: EventRow, c: Constraints): string[] {
  const problems: string[] = [];
  const start = Date.parse(e.start_utc);
  const end = Date.parse(e.end_utc);
  const attendees = attendeesOf(db, e.id);
  const emails = new Set(attendees.map((a) => a.email));
  const missing = c.attendees.filter((a) => !emails.has(a));
  if (missing.length > 0) problems.push(`missing attendees ${missing.join(', ')}`);
  if (c.exact_attendees) {
    const extra = [...emails].filter((a) => a !== e.organizer && !c.attendees.includes(a));
    if (extra.length > 0) problems.push(`unexpected attendees ${extra.join(', ')}`);
  }
  const unwanted = c.attendees_exclude.filter((a) => emails.has(a));
  if (unwanted.length > 0) problems.push(`still invited: ${unwanted.join(', ')}`);
  if (c.duration_minutes !== undefined && end - start !== c.duration_minutes * MINUTE) problems.push(`lasts ${(end - start) / MINUTE} min, expected ${c.duration_minutes}`);
  if (c.start !== undefined && start !== ms(c.start)) problems.push(`starts ${describeRange(start, end, 'UTC')}, expected ${c.start}`);
  if (c.after !== undefined && start < ms(c.after)) problems.push(`starts before ${c.after}`);
  if (c.before !== undefined && end > ms(c.before)) problems.push(`ends after ${c.before}`);
  const title = normalise(e.title);
  const titleMissing = c.title_contains.filter((t) => !title.includes(normalise(t)));
  if (titleMissing.length > 0) problems.push(`title "${e.title}" lacks ${titleMissing.join(', ')}`);
  if (c.location_contains !== undefined && !normalise(e.location).includes(normalise(c.location_contains))) problems.push(`location "${e.location}" lacks "${c.location_contains}"`);
  const descMissing = c.description_contains.filter((t) => !normalise(e.description).includes(normalise(t)));
  if (descMissing.length > 0) problems.push(`description lacks ${descMissing.join(', ')}`);
  const people = attendees.filter((a) => a.response !== 'declined').map((a) => personByEmail(db, a.email)).filter((p) => p !== undefined);
  if (c.within_working_hours) {
    for (const p of people) if (!withinWorkingHours(p, start, end)) problems.push(`outside ${p.name}'s working hours (${describeRange(start, end, p.time_zone)})`);
  }
  if (c.no_conflicts) {
    for (const p of people) {
      const clash = busyOf(db, p.email, { from: start, to: end, exclude: [e.id] });
      if (clash.length > 0) problems.push(`${p.name} is busy then (${clash.map((b) => b.eventId).join(', ')})`);
    }
  }
  return problems;
}

export const calendarChecks = {
  event_exists: defineCheck({
    kind: 'outcome',
    description: 'Exactly one new confirmed event you organize has these attendees and title words, and meets the time constraints (duration, window, working hours of every attendee in their zone, no conflicts).',
    params: Constraints.extend({ name: z.string().optional() }),
    run: (c, { db, initial }) => {
      const old = new Set(rowsOf(initial, 'events').map((e) => String(e.id)));
      const candidates = (db.prepare("SELECT * FROM events WHERE organizer = ? AND status = 'confirmed' ORDER BY start_utc, id").all(ME.email) as EventRow[]).filter((e) => {
        if (old.has(e.id)) return false;
        const emails = new Set(attendeesOf(db, e.id).map((a) => a.email));
        return c.attendees.every((a) => emails.has(a)) && c.title_contains.every((t) => normalise(e.title).includes(normalise(t)));
      });
      const what = [c.title_contains.join(' + '), c.attendees.join(', ')].filter(Boolean).join(' with ');
      if (candidates.length === 0) return fail(`no new event ${what}`);
      if (candidates.length > 1) return fail(`${candidates.length} new events match ${what} (duplicates): ${candidates.map((e) => e.id).join(', ')}`);
      const e = candidates[0]!;
      const problems = eventProblems(db, e, c);
      return problems.length === 0 ? ok(e.id) : fail(`${e.id} "${e.title}": ${problems.join('; ')}`);
    },
  }),

  event_state: defineCheck({
    kind: 'outcome',
    description: 'An existing event has the expected status and meets the constraints.',
    params: Constraints.extend({ name: z.string().optional(), event_id: z.string(), status: z.enum(['confirmed', 'cancelled']).default('confirmed') }),
    run: (c, { db }) => {
      const e = db.prepare('SELECT * FROM events WHERE id = ?').get(c.event_id) as EventRow | undefined;
      if (!e) return fail(`event ${c.event_id} is gone`);
      if (e.status !== c.status) return fail(`${c.event_id} is ${e.status}, expected ${c.status}`);
      const problems = c.status === 'confirmed' ? eventProblems(db, e, c) : [];
      return problems.length === 0 ? ok() : fail(`${c.event_id}: ${problems.join('; ')}`);
    },
  }),

  invitation_response: defineCheck({
    kind: 'outcome',
    description: "An attendee's (default: your) response to each listed event.",
    params: z.object({ name: z.string().optional(), event_ids: z.array(z.string()).min(1), response: z.enum(['needs_action', 'accepted', 'declined', 'tentative']), email: z.string().default(ME.email), note_contains: z.string().optional() }),
    run: (p, { db }) => {
      const wrong: string[] = [];
      for (const id of p.event_ids) {
        const a = attendeesOf(db, id).find((x) => x.email === p.email);
        if (!a) wrong.push(`${id}: not an attendee`);
        else if (a.response !== p.response) wrong.push(`${id}: ${a.response}`);
        else if (p.note_contains !== undefined && !normalise(a.note).includes(normalise(p.note_contains))) wrong.push(`${id}: note "${a.note}" lacks "${p.note_contains}"`);
      }
      return wrong.length === 0 ? ok() : fail(`expected ${p.response}; ${wrong.slice(0, 8).join('; ')}${wrong.length > 8 ? ` (+${wrong.length - 8} more)` : ''}`);
    },
  }),

  answer_mentions: defineCheck({
    kind: 'outcome',
    description: 'The final answer mentions one phrasing from each `any_of` group and none of `none_of`.',
    params: z.object({
      name: z.string().optional(),
      any_of: z.array(z.array(z.string()).min(1)).default([]),
      none_of: z.array(z.string()).default([]),
      /** Numbers that must appear as numbers of their own (not inside "16:00" or "2026"). */
      numbers: z.array(z.number()).default([]),
    }),
    run: (p, { answer }) => {
      if (answer === null) return fail('no final answer');
      const text = normalise(answer);
      const missing = p.any_of.filter((g) => !g.some((v) => text.includes(normalise(v)))).map((g) => g.join(' / '));
      for (const n of p.numbers) if (!new RegExp(`(?<![\\d:.-])${n}(?![\\d:]|\\.\\d)`).test(text)) missing.push(String(n));
      const found = p.none_of.filter((v) => text.includes(normalise(v)));
      const problems = [...missing.map((m) => `lacks ${m}`), ...found.map((f) => `mentions ${f}`)];
      return problems.length === 0 ? ok() : fail(problems.join('; '));
    },
  }),

  calendar_unchanged: defineCheck({
    kind: 'invariant',
    description: 'Nothing changed beyond what the task allows: events in may_change, cancellations in may_cancel, your responses in may_respond, at most may_create new events. Untouched changes by colleagues are ignored.',
    params: z.object({
      name: z.string().optional(),
      may_change: z.array(z.string()).default([]),
      may_cancel: z.array(z.string()).default([]),
      may_respond: z.array(z.string()).default([]),
      may_create: z.number().int().nonnegative().default(0),
    }),
    run: (p, { initial, final }) => checkCalendarUnchanged(p, initial, final),
  }),
};

interface Allowance {
  may_change: string[];
  may_cancel: string[];
  may_respond: string[];
  may_create: number;
}

export function checkCalendarUnchanged(p: Allowance, initial: JsonObject, final: JsonObject): CheckOutput {
  const bad: string[] = [];
  const events = diffTable(initial, final, 'events');
  const mine = events.added.filter((e) => e.updated_by === ME.email);
  if (mine.length > p.may_create) bad.push(`created ${mine.length} events (${mine.map((e) => `"${String(e.title)}"`).join(', ')}), at most ${p.may_create} expected`);
  // Only the agent's own new events; invitations that arrived mid-episode are someone else's.
  const created = new Set(mine.map((e) => String(e.id)));
  for (const e of events.removed) bad.push(`removed event ${String(e.id)}`);
  for (const { before, after } of events.changed) {
    const id = String(after.id);
    if (after.updated_by !== ME.email || p.may_change.includes(id)) continue;
    const onlyCancelled = after.status === 'cancelled' && Object.keys(after).every((k) => ['status', 'updated_at', 'updated_by'].includes(k) || JSON.stringify(before[k]) === JSON.stringify(after[k]));
    if (p.may_cancel.includes(id) && onlyCancelled) continue;
    bad.push(`${after.status === 'cancelled' && before.status !== 'cancelled' ? 'cancelled' : 'changed'} event ${id} "${String(after.title)}"`);
  }
  const eventOk = (id: unknown) => created.has(String(id)) || p.may_change.includes(String(id));
  const attendees = diffTable(initial, final, 'attendees');
  for (const a of attendees.added) {
    if (a.updated_by !== ME.email || eventOk(a.event_id)) continue;
    if (a.email === ME.email && p.may_respond.includes(String(a.event_id))) continue;
    bad.push(a.email === ME.email ? `responded ${String(a.response)} to ${String(a.event_id)}` : `invited ${String(a.email)} to ${String(a.event_id)}`);
  }
  for (const a of attendees.removed) if (!eventOk(a.event_id)) bad.push(`removed ${String(a.email)} from ${String(a.event_id)}`);
  for (const { after } of attendees.changed) {
    if (after.updated_by !== ME.email || eventOk(after.event_id)) continue;
    if (after.email === ME.email && p.may_respond.includes(String(after.event_id))) continue;
    bad.push(after.email === ME.email ? `responded ${String(after.response)} to ${String(after.event_id)}` : `changed ${String(after.email)} on ${String(after.event_id)}`);
  }
  for (const [table, key] of [['people', 'email'], ['calendars', 'id'], ['calendar_settings', 'key']] as const) {
    const d = diffTable(initial, final, table, key);
    if (d.added.length + d.removed.length + d.changed.length > 0) bad.push(`${table} changed`);
  }
  return bad.length === 0 ? ok() : fail(bad.slice(0, 8).join('; ') + (bad.length > 8 ? ` (+${bad.length - 8} more)` : ''));
}
