import { z } from 'zod';
import { defineWorldEvent } from '../define.ts';
import { fixtureTime } from './fixtures.ts';
import { ME, personByEmail, requireEvent, type Response } from './schema.ts';
import { insertEvent } from './write.ts';

/** The organizer moves an event mid-episode; every other attendee is asked to respond again. */
export const meetingMoved = defineWorldEvent({
  description: "An event's organizer moves it to a new time.",
  params: z.object({ event_id: z.string().min(1), start: z.string(), end: z.string() }),
  apply: ({ event_id, start, end }, { db, clock }) => {
    const e = requireEvent(db, event_id);
    const s = fixtureTime(start, e.time_zone, 'meeting_moved.start');
    const t = fixtureTime(end, e.time_zone, 'meeting_moved.end');
    const at = clock.now().toISOString();
    db.prepare('UPDATE events SET start_utc = ?, end_utc = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(new Date(s).toISOString(), new Date(t).toISOString(), at, e.organizer, e.id);
    db.prepare("UPDATE attendees SET response = 'needs_action', updated_at = ?, updated_by = ? WHERE event_id = ? AND email != ?").run(at, e.organizer, e.id, e.organizer);
  },
});

/** A colleague invites the user to a new event mid-episode. */
export const invitationReceived = defineWorldEvent({
  description: 'Someone sends the user an invitation.',
  params: z.object({
    id: z.string().min(1),
    title: z.string().min(1),
    organizer: z.string().min(3),
    start: z.string(),
    end: z.string(),
    time_zone: z.string().optional(),
    attendees: z.array(z.string()).default([]),
    location: z.string().default(''),
    description: z.string().default(''),
  }),
  apply: (p, { db, clock }) => {
    const zone = p.time_zone ?? personByEmail(db, p.organizer)?.time_zone ?? 'UTC';
    const others = p.attendees.filter((a) => a !== ME.email && a !== p.organizer).map((email) => ({ email, response: 'accepted' as Response }));
    insertEvent(db, {
      id: p.id,
      title: p.title,
      organizer: p.organizer,
      start: fixtureTime(p.start, zone, 'invitation_received.start'),
      end: fixtureTime(p.end, zone, 'invitation_received.end'),
      timeZone: zone,
      attendees: [{ email: ME.email, response: 'needs_action' }, ...others],
      location: p.location,
      description: p.description,
      at: clock.now().toISOString(),
      by: p.organizer,
    });
  },
});

export const calendarEvents = { meeting_moved: meetingMoved, invitation_received: invitationReceived };
