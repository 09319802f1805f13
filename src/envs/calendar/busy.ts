import type Database from 'better-sqlite3';
import { ToolError } from '../define.ts';
import type { EventRow, PersonRow } from './schema.ts';
import { localDate, minuteOfDay, parseClock, parseIso, toLocal } from './tz.ts';

export interface Busy {
  start: number;
  end: number;
  eventId: string;
  title: string;
}

export const MINUTE = 60_000;
export const DAY = 86_400_000;

export function isoToMs(text: string, field: string): number {
  const parsed = parseIso(text);
  if ('error' in parsed) throw new ToolError(`${field}: ${parsed.error}`);
  return parsed.ms;
}

/** Time a person is committed: confirmed, busy events they organize or attend and have not declined. */
const busyStatements = new WeakMap<Database.Database, Database.Statement>();

export function busyOf(db: Database.Database, email: string, range: { from: number; to: number; exclude?: string[] }): Busy[] {
  let statement = busyStatements.get(db);
  if (!statement) {
    statement = db.prepare(
      `SELECT e.* FROM attendees a JOIN events e ON e.id = a.event_id
       WHERE a.email = ? AND a.response != 'declined' AND e.status = 'confirmed' AND e.transparency = 'busy'
         AND e.start_utc < ? AND e.end_utc > ? ORDER BY e.start_utc, e.id`,
    );
    busyStatements.set(db, statement);
  }
  const rows = statement
    .all(email, new Date(range.to).toISOString(), new Date(range.from).toISOString()) as EventRow[];
  const exclude = new Set(range.exclude ?? []);
  return rows.filter((e) => !exclude.has(e.id)).map((e) => ({ start: Date.parse(e.start_utc), end: Date.parse(e.end_utc), eventId: e.id, title: e.title }));
}

/**
 * busyOf's answer to "is this person busy at all in [from, to)", for code that asks hundreds of
 * times while it is the only writer (the seed placing meetings): one query up front, then memory.
 * Whoever adds a confirmed, busy event must `add` it here too.
 */
export class BusyIndex {
  private readonly byPerson = new Map<string, { start: string; end: string }[]>();

  constructor(db: Database.Database) {
    const rows = db
      .prepare(
        `SELECT a.email AS email, e.start_utc AS start, e.end_utc AS end FROM attendees a JOIN events e ON e.id = a.event_id
         WHERE a.response != 'declined' AND e.status = 'confirmed' AND e.transparency = 'busy'`,
      )
      .all() as { email: string; start: string; end: string }[];
    for (const r of rows) this.push(r.email, r.start, r.end);
  }

  private push(email: string, start: string, end: string): void {
    const list = this.byPerson.get(email);
    if (list) list.push({ start, end });
    else this.byPerson.set(email, [{ start, end }]);
  }

  /** A confirmed, busy event from `start` to `end` (ms) that `emails` attend without having declined. */
  add(emails: readonly string[], start: number, end: number): void {
    const [s, e] = [new Date(start).toISOString(), new Date(end).toISOString()];
    for (const email of new Set(emails)) this.push(email, s, e);
  }

  /** Whether busyOf(db, email, { from, to }) would return anything (the same string comparisons as its SQL). */
  isBusy(email: string, from: number, to: number): boolean {
    const [f, t] = [new Date(from).toISOString(), new Date(to).toISOString()];
    return (this.byPerson.get(email) ?? []).some((b) => b.start < t && b.end > f);
  }
}

export function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Whether [start, end) lies inside one working day of the person, in their own time zone. */
export function withinWorkingHours(person: PersonRow, start: number, end: number): boolean {
  if (person.external) return true;
  const s = toLocal(start, person.time_zone);
  const e = toLocal(end, person.time_zone);
  const days = person.work_days.split(',').map(Number);
  if (!days.includes(s.weekday)) return false;
  const sameDay = localDate(s) === localDate(e);
  const endMinute = sameDay ? minuteOfDay(e) : minuteOfDay(e) === 0 && end - start < DAY ? 1440 : -1;
  return minuteOfDay(s) >= parseClock(person.work_start) && endMinute !== -1 && endMinute <= parseClock(person.work_end);
}

export interface SlotQuery {
  people: PersonRow[];
  from: number;
  to: number;
  durationMs: number;
  stepMs: number;
  /** Events to treat as free (the meeting being moved). */
  exclude?: string[];
}

/** Every start on the step grid where all people are free and inside their working hours. */
export function freeSlots(db: Database.Database, q: SlotQuery): { start: number; end: number }[] {
  const busy = new Map(q.people.map((p) => [p.email, busyOf(db, p.email, { from: q.from, to: q.to, exclude: q.exclude ?? [] })]));
  const slots: { start: number; end: number }[] = [];
  const first = Math.ceil(q.from / q.stepMs) * q.stepMs;
  for (let start = first; start + q.durationMs <= q.to; start += q.stepMs) {
    const slot = { start, end: start + q.durationMs };
    if (q.people.every((p) => withinWorkingHours(p, slot.start, slot.end) && !(busy.get(p.email) ?? []).some((b) => overlaps(b, slot)))) slots.push(slot);
  }
  return slots;
}
