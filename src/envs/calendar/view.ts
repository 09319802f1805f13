import type Database from 'better-sqlite3';
import type { JsonValue } from '../../core/index.ts';
import { ToolError } from '../define.ts';
import { attendeesOf, ME, personByEmail, type EventRow, type PersonRow } from './schema.ts';
import { formatIso, isValidZone } from './tz.ts';

export function encodeCursor(tool: string, offset: number): string {
  return Buffer.from(`${tool}:${offset}`).toString('base64url');
}

export function decodeCursor(tool: string, cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const [name, offset] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const n = Number(offset);
  if (name !== tool || !Number.isInteger(n) || n < 0) throw new ToolError(`cursor "${cursor}" was not returned by ${tool}; pass next_cursor from the previous ${tool} result with the same arguments`);
  return n;
}

export function requireZone(zone: string | undefined, fallback: string): string {
  const z = zone ?? fallback;
  if (!isValidZone(z)) throw new ToolError(`unknown time zone "${z}"; use an IANA name such as Europe/London or America/New_York`);
  return z;
}

const DAY_LABELS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function workingHours(p: PersonRow): string {
  const days = p.work_days.split(',').map(Number);
  const label = days.length === 5 && days.join() === '1,2,3,4,5' ? 'Mon–Fri' : days.map((d) => DAY_LABELS[d]).join(', ');
  return `${p.work_start}–${p.work_end} ${label} (${p.time_zone})`;
}

export function personLabel(db: Database.Database, email: string): string {
  const p = personByEmail(db, email);
  return p ? `${p.name} <${email}>` : email;
}

/** A compact event for lists: times in `zone`, the viewer's own response if invited. */
export function eventSummary(db: Database.Database, e: EventRow, zone: string): Record<string, JsonValue> {
  const attendees = attendeesOf(db, e.id);
  const mine = attendees.find((a) => a.email === ME.email);
  const out: Record<string, JsonValue> = {
    id: e.id,
    title: e.title,
    start: formatIso(Date.parse(e.start_utc), zone),
    end: formatIso(Date.parse(e.end_utc), zone),
    organizer: personLabel(db, e.organizer),
    attendees: attendees.length,
  };
  if (e.status !== 'confirmed') out.status = e.status;
  if (e.transparency === 'free') out.shows_as = 'free';
  if (e.recurrence) out.recurring = e.recurrence;
  if (e.location) out.location = e.location;
  if (mine && e.organizer !== ME.email) out.my_response = mine.response;
  return out;
}

export function eventDetail(db: Database.Database, e: EventRow, zone: string): Record<string, JsonValue> {
  return {
    ...eventSummary(db, e, zone),
    status: e.status,
    event_time_zone: e.time_zone,
    start_in_event_zone: formatIso(Date.parse(e.start_utc), e.time_zone),
    description: e.description,
    attendees: attendeesOf(db, e.id).map((a) => ({ email: a.email, name: personByEmail(db, a.email)?.name ?? a.email, response: a.response, ...(a.note ? { note: a.note } : {}) })),
    ...(e.series_id ? { series_id: e.series_id } : {}),
  };
}
