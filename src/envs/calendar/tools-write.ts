import { z } from 'zod';
import type { JsonValue } from '../../core/index.ts';
import { defineTool, ToolError, type EpisodeContext } from '../define.ts';
import { busyOf, isoToMs, MINUTE, withinWorkingHours } from './busy.ts';
import { attendeesOf, ME, personByEmail, requireEvent, resolvePerson, setting, type EventRow, type PersonRow } from './schema.ts';
import { describeRange, formatIso } from './tz.ts';
import { eventDetail, requireZone } from './view.ts';
import { insertEvent } from './write.ts';

const Iso = z.string().describe('ISO 8601 with an offset, e.g. 2026-03-24T10:00:00+01:00');

function nowIso(ctx: EpisodeContext): string {
  return ctx.clock.now().toISOString();
}

function mustOrganize(e: EventRow, action: string): void {
  if (e.status === 'cancelled') throw new ToolError(`"${e.title}" (${e.id}) is cancelled`);
  if (e.organizer !== ME.email) throw new ToolError(`you are not the organizer of "${e.title}" (${e.id}); only ${e.organizer} can ${action}. To decline it yourself, use respond_to_invitation`);
}

function times(input: { start?: string | undefined; end?: string | undefined; duration_minutes?: number | undefined }, current?: { start: number; end: number }): { start: number; end: number } {
  const start = input.start !== undefined ? isoToMs(input.start, 'start') : current?.start;
  if (start === undefined) throw new ToolError('start is required');
  let end: number;
  if (input.end !== undefined) end = isoToMs(input.end, 'end');
  else if (input.duration_minutes !== undefined) end = start + input.duration_minutes * MINUTE;
  else if (current) end = start + (current.end - current.start);
  else throw new ToolError('give end or duration_minutes');
  if (end <= start) throw new ToolError(`end (${formatIso(end, ME.time_zone)}) must be after start (${formatIso(start, ME.time_zone)})`);
  if (end - start > 12 * 60 * MINUTE) throw new ToolError('an event can last at most 12 hours');
  return { start, end };
}

/** Conflicts on the user's calendar are refused when the task forbids double booking; everything else is a warning. */
function conflictNotes(ctx: EpisodeContext, slot: { start: number; end: number }, people: PersonRow[], exclude: string[]): string[] {
  const warnings: string[] = [];
  for (const p of people) {
    const busy = busyOf(ctx.db, p.email, { from: slot.start, to: slot.end, exclude });
    if (p.email === ME.email && busy.length > 0 && setting(ctx.db, 'no_double_booking') === 'true') {
      throw new ToolError(`that overlaps your ${busy.map((b) => `"${b.title}" (${b.eventId}, ${describeRange(b.start, b.end, ME.time_zone)})`).join(', ')}; double booking is not allowed here — pick a free time (find_free_slots)`);
    }
    if (busy.length > 0) warnings.push(`${p.name} is busy then (${busy.map((b) => (p.email === ME.email ? b.title : 'busy')).join(', ')})`);
    if (!withinWorkingHours(p, slot.start, slot.end)) warnings.push(`outside ${p.name}'s working hours: ${describeRange(slot.start, slot.end, p.time_zone)}`);
  }
  return warnings;
}

function withWarnings(detail: Record<string, JsonValue>, warnings: string[]): Record<string, JsonValue> {
  return warnings.length > 0 ? { ...detail, warnings } : detail;
}

export const createEvent = defineTool({
  description: 'Create an event on your calendar and invite attendees (by email or full name; outside addresses become guests). Give end or duration_minutes. Conflicts and times outside attendees\' working hours come back as warnings.',
  input: z.object({
    title: z.string().trim().min(1),
    start: Iso,
    end: Iso.optional(),
    duration_minutes: z.number().int().min(5).max(720).optional(),
    time_zone: z.string().optional().describe('the zone the meeting is planned in (default: yours)'),
    attendees: z.array(z.string().min(1)).max(30).default([]),
    location: z.string().default(''),
    description: z.string().default(''),
  }),
  run: (input, ctx) => {
    const slot = times(input);
    const zone = requireZone(input.time_zone, ME.time_zone);
    const guests: PersonRow[] = [];
    for (const a of input.attendees) {
      const p = resolvePerson(ctx.db, a, { allowExternal: true });
      if (p.email !== ME.email && !guests.some((g) => g.email === p.email)) guests.push(p);
    }
    const me = personByEmail(ctx.db, ME.email) as PersonRow;
    const warnings = conflictNotes(ctx, slot, [me, ...guests], []);
    const id = ctx.ids.next('event');
    insertEvent(ctx.db, {
      id,
      title: input.title,
      organizer: ME.email,
      start: slot.start,
      end: slot.end,
      timeZone: zone,
      attendees: guests.map((g) => ({ email: g.email, response: 'needs_action' })),
      location: input.location,
      description: input.description,
      at: nowIso(ctx),
      by: ME.email,
    });
    return withWarnings(eventDetail(ctx.db, requireEvent(ctx.db, id), zone), warnings);
  },
});

export const updateEvent = defineTool({
  description: 'Change an event you organize: title, time (start and end, or start alone to keep the length), location, description. Moving it asks attendees to respond again.',
  input: z.object({
    event_id: z.string().min(1),
    title: z.string().trim().min(1).optional(),
    start: Iso.optional(),
    end: Iso.optional(),
    duration_minutes: z.number().int().min(5).max(720).optional(),
    location: z.string().optional(),
    description: z.string().optional(),
    time_zone: z.string().optional(),
  }),
  run: (input, ctx) => {
    const e = requireEvent(ctx.db, input.event_id);
    mustOrganize(e, 'change it');
    const { event_id: _id, ...changes } = input;
    if (Object.values(changes).every((v) => v === undefined)) throw new ToolError('nothing to change: give title, start, end, duration_minutes, location, description or time_zone');
    const current = { start: Date.parse(e.start_utc), end: Date.parse(e.end_utc) };
    const slot = times(input, current);
    const moved = slot.start !== current.start || slot.end !== current.end;
    const zone = requireZone(input.time_zone, e.time_zone);
    let warnings: string[] = [];
    if (moved) {
      const people = attendeesOf(ctx.db, e.id)
        .filter((a) => a.response !== 'declined')
        .map((a) => personByEmail(ctx.db, a.email))
        .filter((p): p is PersonRow => p !== undefined);
      warnings = conflictNotes(ctx, slot, people, [e.id]);
    }
    const at = nowIso(ctx);
    ctx.db
      .prepare('UPDATE events SET title = ?, start_utc = ?, end_utc = ?, location = ?, description = ?, time_zone = ?, updated_at = ?, updated_by = ? WHERE id = ?')
      .run(input.title ?? e.title, new Date(slot.start).toISOString(), new Date(slot.end).toISOString(), input.location ?? e.location, input.description ?? e.description, zone, at, ME.email, e.id);
    if (moved) ctx.db.prepare("UPDATE attendees SET response = 'needs_action', note = '', updated_at = ?, updated_by = ? WHERE event_id = ? AND email != ?").run(at, ME.email, e.id, ME.email);
    return withWarnings(eventDetail(ctx.db, requireEvent(ctx.db, e.id), ME.time_zone), warnings);
  },
});

export const cancelEvent = defineTool({
  description: 'Cancel an event you organize (attendees are told). For a recurring event, scope "following" cancels this and every later occurrence.',
  input: z.object({ event_id: z.string().min(1), scope: z.enum(['this', 'following']).default('this'), note: z.string().optional() }),
  run: ({ event_id, scope }, ctx) => {
    const e = requireEvent(ctx.db, event_id);
    mustOrganize(e, 'cancel it');
    if (scope === 'following' && !e.series_id) throw new ToolError(`"${e.title}" is not recurring; use scope "this"`);
    const ids = scope === 'this' ? [e.id] : (ctx.db.prepare("SELECT id FROM events WHERE series_id = ? AND start_utc >= ? AND status = 'confirmed' ORDER BY start_utc").all(e.series_id, e.start_utc) as { id: string }[]).map((r) => r.id);
    const at = nowIso(ctx);
    for (const id of ids) ctx.db.prepare("UPDATE events SET status = 'cancelled', updated_at = ?, updated_by = ? WHERE id = ?").run(at, ME.email, id);
    return { cancelled: ids, title: e.title };
  },
});

export const respondToInvitation = defineTool({
  description: "Accept, decline or tentatively accept an event you were invited to (optionally with a note to the organizer).",
  input: z.object({ event_id: z.string().min(1), response: z.enum(['accepted', 'declined', 'tentative']), note: z.string().optional() }),
  run: ({ event_id, response, note }, ctx) => {
    const e = requireEvent(ctx.db, event_id);
    if (e.status === 'cancelled') throw new ToolError(`"${e.title}" (${e.id}) was cancelled by its organizer; there is nothing to respond to`);
    if (e.organizer === ME.email) throw new ToolError(`you organize "${e.title}"; to call it off use cancel_event`);
    const mine = attendeesOf(ctx.db, e.id).find((a) => a.email === ME.email);
    if (!mine) throw new ToolError(`you are not invited to "${e.title}" (${e.id})`);
    ctx.db.prepare('UPDATE attendees SET response = ?, note = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(response, note ?? '', nowIso(ctx), ME.email, mine.id);
    return { event_id: e.id, title: e.title, start: formatIso(Date.parse(e.start_utc), ME.time_zone), response };
  },
});

export const addAttendee = defineTool({
  description: 'Invite one more person (email or full name) to an event you organize.',
  input: z.object({ event_id: z.string().min(1), attendee: z.string().min(1) }),
  run: ({ event_id, attendee }, ctx) => {
    const e = requireEvent(ctx.db, event_id);
    mustOrganize(e, 'invite people');
    const p = resolvePerson(ctx.db, attendee, { allowExternal: true });
    if (attendeesOf(ctx.db, e.id).some((a) => a.email === p.email)) throw new ToolError(`${p.name} is already invited to "${e.title}"`);
    const at = nowIso(ctx);
    ctx.db.prepare("INSERT INTO attendees (id, event_id, email, response, note, updated_at, updated_by) VALUES (?, ?, ?, 'needs_action', '', ?, ?)").run(`${e.id}|${p.email}`, e.id, p.email, at, ME.email);
    ctx.db.prepare('UPDATE events SET updated_at = ?, updated_by = ? WHERE id = ?').run(at, ME.email, e.id);
    const warnings = conflictNotes(ctx, { start: Date.parse(e.start_utc), end: Date.parse(e.end_utc) }, p.external ? [] : [p], [e.id]);
    return withWarnings({ event_id: e.id, title: e.title, added: `${p.name} <${p.email}>` }, warnings);
  },
});

export const removeAttendee = defineTool({
  description: 'Take a person off an event you organize.',
  input: z.object({ event_id: z.string().min(1), attendee: z.string().min(1) }),
  run: ({ event_id, attendee }, ctx) => {
    const e = requireEvent(ctx.db, event_id);
    mustOrganize(e, 'change the guest list');
    const p = resolvePerson(ctx.db, attendee, { allowExternal: true });
    if (p.email === ME.email) throw new ToolError('you organize this event; cancel it instead of removing yourself');
    const row = attendeesOf(ctx.db, e.id).find((a) => a.email === p.email);
    if (!row) throw new ToolError(`${p.name} is not on "${e.title}"`);
    ctx.db.prepare('DELETE FROM attendees WHERE id = ?').run(row.id);
    ctx.db.prepare('UPDATE events SET updated_at = ?, updated_by = ? WHERE id = ?').run(nowIso(ctx), ME.email, e.id);
    return { event_id: e.id, title: e.title, removed: `${p.name} <${p.email}>` };
  },
});

export const submit = defineTool({
  description: 'Finish the task. Give `answer` when the request asked a question.',
  input: z.object({ answer: z.string().optional() }),
  endsEpisode: true,
  run: ({ answer }) => (answer === undefined ? { content: 'Submitted.' } : { content: 'Submitted.', answer }),
});
