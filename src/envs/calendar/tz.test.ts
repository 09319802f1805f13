import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeSlots, MINUTE, withinWorkingHours } from './busy.ts';
import { planningWorld } from './families/common.ts';
import { PEOPLE, P } from './people.ts';
import { ME, peopleOf } from './schema.ts';
import { describeRange, formatIso, fromLocal, offsetMinutes, parseIso, toLocal } from './tz.ts';

const person = (email: string) => PEOPLE.find((p) => p.email === email)!;
const utc = (text: string) => Date.parse(text);

describe('time zones', () => {
  it('switches London to BST at 01:00 UTC on 29 March 2026 and New York to EDT on 8 March', () => {
    assert.equal(offsetMinutes(utc('2026-03-29T00:59:00Z'), 'Europe/London'), 0);
    assert.equal(offsetMinutes(utc('2026-03-29T01:00:00Z'), 'Europe/London'), 60);
    assert.equal(offsetMinutes(utc('2026-03-08T06:59:00Z'), 'America/New_York'), -300);
    assert.equal(offsetMinutes(utc('2026-03-08T07:00:00Z'), 'America/New_York'), -240);
  });

  it('knows zones without DST, half-hour offsets and the southern hemisphere', () => {
    assert.equal(offsetMinutes(utc('2026-03-16T12:00:00Z'), 'Asia/Kolkata'), 330);
    assert.equal(offsetMinutes(utc('2026-07-01T12:00:00Z'), 'America/Mexico_City'), -360);
    assert.equal(offsetMinutes(utc('2026-04-04T12:00:00Z'), 'Australia/Sydney'), 660);
    assert.equal(offsetMinutes(utc('2026-04-05T12:00:00Z'), 'Australia/Sydney'), 600);
  });

  it('moves a wall time skipped by spring-forward to after the gap, and takes the later of a repeated hour', () => {
    assert.equal(formatIso(fromLocal({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, 'Europe/London'), 'Europe/London'), '2026-03-29T02:30:00+01:00');
    assert.equal(formatIso(fromLocal({ year: 2026, month: 10, day: 25, hour: 1, minute: 30 }, 'Europe/London'), 'Europe/London'), '2026-10-25T01:30:00+00:00');
    assert.equal(formatIso(fromLocal({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, 'America/New_York'), 'America/New_York'), '2026-03-08T03:30:00-04:00');
  });

  it('formats with the offset in force and parses it back to the same instant', () => {
    const ms = utc('2026-03-24T14:00:00Z');
    for (const zone of ['Europe/London', 'America/New_York', 'Asia/Kolkata', 'Asia/Tokyo', 'America/Sao_Paulo']) {
      const text = formatIso(ms, zone);
      assert.deepEqual(parseIso(text), { ms }, `${zone}: ${text}`);
    }
    assert.equal(formatIso(ms, 'Asia/Kolkata'), '2026-03-24T19:30:00+05:30');
    assert.equal(describeRange(ms, ms + 30 * MINUTE, 'America/New_York'), 'Tue 24 Mar 10:00–10:30 (America/New_York)');
  });

  it('refuses times without an offset and dates that do not exist', () => {
    const missing = parseIso('2026-03-24T10:00');
    assert.ok('error' in missing && /no offset/.test(missing.error));
    const impossible = parseIso('2026-02-30T10:00:00Z');
    assert.ok('error' in impossible && /not a real date/.test(impossible.error));
    assert.equal(toLocal(utc('2026-03-29T12:00:00Z'), 'Europe/London').weekday, 7);
  });

  it('keeps a weekly New York meeting at 11:00 New York time, so London sees it move an hour across the gap weeks', () => {
    const db = planningWorld({});
    const start = (id: string) => (db.prepare('SELECT start_utc FROM events WHERE id = ?').get(id) as { start_utc: string }).start_utc;
    assert.equal(start('product-sync-20260305'), '2026-03-05T16:00:00.000Z');
    assert.equal(start('product-sync-20260326'), '2026-03-26T15:00:00.000Z');
    assert.equal(start('product-sync-20260402'), '2026-04-02T15:00:00.000Z');
    assert.equal(formatIso(utc(start('product-sync-20260402')), 'Europe/London'), '2026-04-02T16:00:00+01:00');
    db.close();
  });
});

describe('working hours and free slots', () => {
  it('judges working hours in each person\'s own zone, ends inclusive, weekends out', () => {
    const hana = person(P.hana);
    assert.equal(withinWorkingHours(hana, utc('2026-03-19T09:30:00Z'), utc('2026-03-19T10:00:00Z')), true);
    assert.equal(withinWorkingHours(hana, utc('2026-03-19T10:00:00Z'), utc('2026-03-19T10:30:00Z')), false);
    assert.equal(withinWorkingHours(hana, utc('2026-03-21T02:00:00Z'), utc('2026-03-21T02:30:00Z')), false);
    const me = person(ME.email);
    assert.equal(withinWorkingHours(me, utc('2026-03-27T08:00:00Z'), utc('2026-03-27T08:30:00Z')), false);
    assert.equal(withinWorkingHours(me, utc('2026-03-30T08:00:00Z'), utc('2026-03-30T08:30:00Z')), true);
    const devika = person(P.devika);
    assert.equal(withinWorkingHours(devika, utc('2026-03-16T04:00:00Z'), utc('2026-03-16T04:30:00Z')), true);
    assert.equal(withinWorkingHours(devika, utc('2026-03-16T03:30:00Z'), utc('2026-03-16T04:00:00Z')), false);
  });

  it('finds the one half hour London and Tokyo share before BST, and more of them after', () => {
    const db = planningWorld({});
    const people = peopleOf(db).filter((p) => p.email === ME.email || p.email === P.hana);
    const before = freeSlots(db, { people, from: utc('2026-03-19T00:00:00Z'), to: utc('2026-03-20T00:00:00Z'), durationMs: 30 * MINUTE, stepMs: 30 * MINUTE });
    assert.deepEqual(before.map((s) => new Date(s.start).toISOString()), ['2026-03-19T09:00:00.000Z']);
    const after = freeSlots(db, { people, from: utc('2026-04-02T00:00:00Z'), to: utc('2026-04-03T00:00:00Z'), durationMs: 30 * MINUTE, stepMs: 30 * MINUTE });
    assert.deepEqual(after.map((s) => formatIso(s.start, 'Europe/London')), ['2026-04-02T09:00:00+01:00', '2026-04-02T10:00:00+01:00', '2026-04-02T10:30:00+01:00']);
    db.close();
  });

  it('treats declined invitations and free-time blocks as free, and cancelled events as gone', () => {
    const db = planningWorld({
      events: [
        { id: 'declined', title: 'x', organizer: P.priya, start: '2026-03-18T10:00:00Z', end: '2026-03-18T11:00:00Z', attendees: [{ email: ME.email, response: 'declined' }] },
        { id: 'cancelled', title: 'y', organizer: P.priya, start: '2026-03-18T11:00:00Z', end: '2026-03-18T12:00:00Z', status: 'cancelled', attendees: [ME.email] },
        { id: 'busy', title: 'z', organizer: P.priya, start: '2026-03-18T14:00:00Z', end: '2026-03-18T15:00:00Z', attendees: [{ email: ME.email, response: 'needs_action' }] },
      ],
    });
    const me = peopleOf(db).filter((p) => p.email === ME.email);
    const slots = freeSlots(db, { people: me, from: utc('2026-03-18T10:00:00Z'), to: utc('2026-03-18T16:00:00Z'), durationMs: 60 * MINUTE, stepMs: 60 * MINUTE });
    // 12:00 is lunch (shows as free), 13:00–15:00 is focus time and an unanswered invitation.
    assert.deepEqual(slots.map((s) => new Date(s.start).toISOString().slice(11, 16)), ['10:00', '11:00', '12:00', '15:00']);
    db.close();
  });
});
