import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment, JsonValue, Task } from '../../core/index.ts';
import { rowsOf } from '../state.ts';
import { data, episode, error, fixtureTask } from '../test-support.ts';
import type { CalendarFixturesInput } from './fixtures.ts';
import { calendar } from './index.ts';
import { P } from './people.ts';

const signal = new AbortController().signal;

const taskWith = (fixtures: CalendarFixturesInput & { schedule?: JsonValue[] }, checks: JsonValue[] = [{ check: 'calendar_unchanged' }]): Task => fixtureTask('calendar', fixtures, checks);

const mine = { id: 'mine', title: 'Design QA', organizer: P.me, start: '2026-03-18T10:00', end: '2026-03-18T10:45', time_zone: 'Europe/London', attendees: [P.hana, { email: P.samira, response: 'accepted' as const }] };
const theirs = { id: 'theirs', title: 'Ops review', organizer: P.oliver, start: '2026-03-18T14:00', end: '2026-03-18T14:30', time_zone: 'Europe/London', attendees: [{ email: P.me, response: 'needs_action' as const }] };
const quiet: CalendarFixturesInput = { background: false, events: [mine, theirs] };

const open = (task: Task, seed = 1): Promise<Environment> => episode(calendar, task, seed);

describe('calendar tools', () => {
  it('explains bad times, unknown and ambiguous people', async () => {
    const env = await open(taskWith(quiet));
    const call = (args: Record<string, JsonValue>) => env.call('create_event', { title: 'x', ...args }, { signal });
    assert.match(error(await call({ start: '2026-03-20T10:00', duration_minutes: 30 })), /has no offset; add one/);
    assert.match(error(await call({ start: '2026-03-20T10:00:00Z', end: '2026-03-20T09:00:00Z' })), /end \(2026-03-20T09:00:00\+00:00\) must be after start/);
    assert.match(error(await call({ start: '2026-03-20T10:00:00Z' })), /give end or duration_minutes/);
    assert.match(error(await call({ start: '2026-03-20T10:00:00Z', duration_minutes: 30, attendees: ['Sam'] })), /unknown person "Sam".*Sam Whitfield.*Sam Castellano|Sam Castellano.*Sam Whitfield/);
    assert.match(error(await call({ start: '2026-03-20T10:00:00Z', duration_minutes: 30, attendees: ['nobody@larkspur.example'] })), /nobody at Larkspur has the address/);
    assert.match(error(await call({ start: '2026-03-20T10:00:00Z', duration_minutes: 30, time_zone: 'Mars/Olympus' })), /unknown time zone "Mars\/Olympus"/);
    const guest = data(await call({ start: '2026-03-20T10:00:00Z', duration_minutes: 30, attendees: ['Jonah Pierce', 'pat@customer.example'] }));
    assert.deepEqual((guest.attendees as { email: string }[]).map((a) => a.email), [P.me, P.jonah, 'pat@customer.example']);
    assert.match(JSON.stringify(guest.warnings), /outside Jonah Pierce's working hours: Fri 20 Mar 06:00–06:30 \(America\/New_York\)/);
  });

  it('refuses to double-book when the task forbids it, naming the clash', async () => {
    const env = await open(taskWith({ ...quiet, no_double_booking: true }));
    const clash = await env.call('create_event', { title: 'x', start: '2026-03-18T10:30:00Z', duration_minutes: 30 }, { signal });
    assert.match(error(clash), /overlaps your "Design QA" \(mine, Wed 18 Mar 10:00–10:45 \(Europe\/London\)\); double booking is not allowed/);
    data(await env.call('create_event', { title: 'x', start: '2026-03-18T11:00:00Z', duration_minutes: 30 }, { signal }));
  });

  it('lets only the organizer change an event, and asks attendees again after a move', async () => {
    const env = await open(taskWith(quiet));
    assert.match(error(await env.call('update_event', { event_id: 'theirs', title: 'x' }, { signal })), /not the organizer.*respond_to_invitation/);
    assert.match(error(await env.call('respond_to_invitation', { event_id: 'mine', response: 'declined' }, { signal })), /you organize "Design QA"; to call it off use cancel_event/);
    const moved = data(await env.call('update_event', { event_id: 'mine', start: '2026-03-18T11:00:00+00:00' }, { signal }));
    assert.equal(moved.end, '2026-03-18T11:45:00+00:00');
    assert.deepEqual((moved.attendees as { response: string }[]).map((a) => a.response), ['accepted', 'needs_action', 'needs_action']);
    data(await env.call('cancel_event', { event_id: 'mine' }, { signal }));
    assert.match(error(await env.call('update_event', { event_id: 'mine', title: 'y' }, { signal })), /is cancelled/);
  });

  it('pages through list_events with next_cursor and refuses a cursor from another tool', async () => {
    const env = await open(taskWith({}));
    const ids: string[] = [];
    let cursor: JsonValue | undefined;
    let total: number;
    do {
      const page = data(await env.call('list_events', { start: '2026-03-16T00:00:00Z', end: '2026-03-28T00:00:00Z', limit: 10, ...(cursor ? { cursor } : {}) }, { signal }));
      total = page.total as number;
      ids.push(...(page.events as { id: string }[]).map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    assert.ok(total > 20);
    assert.equal(ids.length, total);
    assert.equal(new Set(ids).size, total);
    const first = data(await env.call('list_events', { limit: 1 }, { signal }));
    assert.match(error(await env.call('find_free_slots', { attendees: [P.jonah], duration_minutes: 30, window_start: '2026-03-23T00:00:00Z', window_end: '2026-03-24T00:00:00Z', cursor: first.next_cursor }, { signal })), /not returned by find_free_slots/);
  });

  it('shows times in the requested zone and the slot in every participant\'s own zone', async () => {
    const env = await open(taskWith(quiet));
    const slots = data(await env.call('find_free_slots', { attendees: ['Jonah Pierce'], duration_minutes: 30, window_start: '2026-03-24T00:00:00Z', window_end: '2026-03-25T00:00:00Z', time_zone: 'America/New_York', limit: 2 }, { signal }));
    const first = (slots.slots as { start: string; local: Record<string, string> }[])[0]!;
    // 13:00–13:30 London is Robin's 1:1 with Ingrid (14:00 in Oslo).
    assert.equal(first.start, '2026-03-24T09:30:00-04:00');
    assert.equal(first.local['Robin Okafor'], 'Tue 24 Mar 13:30–14:00 (Europe/London)');
    assert.equal(slots.next_cursor !== null, true);
    assert.match(error(await env.call('find_free_slots', { attendees: [P.jonah], duration_minutes: 30, window_start: '2026-03-01T00:00:00Z', window_end: '2026-04-01T00:00:00Z' }, { signal })), /longer than 14 days/);
  });

  it('cancels a recurring block from one date on with scope "following"', async () => {
    const env = await open(taskWith(quiet));
    const out = data(await env.call('cancel_event', { event_id: 'focus-20260408', scope: 'following' }, { signal }));
    assert.deepEqual(out.cancelled, ['focus-20260408', 'focus-20260415', 'focus-20260422']);
    const snapshot = await env.snapshot();
    const status = (id: string) => rowsOf(snapshot, 'events').find((e) => e.id === id)?.status;
    assert.equal(status('focus-20260401'), 'confirmed');
    assert.match(error(await env.call('cancel_event', { event_id: 'standup-20260408', scope: 'following' }, { signal })), /not the organizer/);
  });

  it('fires scheduled world events; the invariant ignores colleagues\' changes but not the agent\'s', async () => {
    const task = taskWith({
      ...quiet,
      schedule: [
        { event: 'meeting_moved', afterCalls: 1, params: { event_id: 'theirs', start: '2026-03-18T16:00', end: '2026-03-18T16:30' } },
        { event: 'invitation_received', afterCalls: 2, params: { id: 'new-invite', title: 'Hiring sync', organizer: P.aisha, start: '2026-03-19T10:00:00Z', end: '2026-03-19T10:30:00Z' } },
      ],
    });
    const env = await open(task);
    await env.call('list_people', {}, { signal });
    const moved = data(await env.call('get_event', { event_id: 'theirs' }, { signal }));
    assert.equal(moved.start, '2026-03-18T16:00:00+00:00');
    const invite = data(await env.call('get_event', { event_id: 'new-invite' }, { signal }));
    assert.deepEqual((invite.attendees as { email: string; response: string }[]).map((a) => [a.email, a.response]), [[P.aisha, 'accepted'], [P.me, 'needs_action']]);
    assert.equal((await env.verify({ answer: null })).passed, true);
    data(await env.call('respond_to_invitation', { event_id: 'new-invite', response: 'accepted' }, { signal }));
    const outcome = await env.verify({ answer: null });
    assert.equal(outcome.passed, false);
    assert.match(outcome.checks[0]?.detail ?? '', /responded accepted to new-invite/);
  });

  it('varies the one-off meetings with the seed and keeps them out of keep_free windows', async () => {
    const task = taskWith({ keep_free: [{ people: [P.me], start: '2026-03-23T00:00:00Z', end: '2026-03-28T00:00:00Z' }] });
    const noise = async (seed: number) => rowsOf(await (await open(task, seed)).snapshot(), 'events').filter((e) => String(e.id).startsWith('evt_'));
    const [a, b, c] = [await noise(1), await noise(1), await noise(2)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const env = await open(task, 2);
    const week = data(await env.call('list_events', { start: '2026-03-23T00:00:00Z', end: '2026-03-28T00:00:00Z', limit: 25 }, { signal }));
    assert.equal((week.events as { id: string }[]).some((e) => e.id.startsWith('evt_')), false);
  });
});
