import type { Task } from '../../../core/index.ts';
import type { CalendarFixturesInput } from '../fixtures.ts';
import { P } from '../people.ts';
import { fromLocal } from '../tz.ts';
import { encodeCursor } from '../view.ts';
import { bookFirstSlot, calendarTask, london, londonEvent, planningWorld, step } from './common.ts';

const at = (day: string, time: string): number => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  return fromLocal({ year: y, month: m, day: d, hour: h, minute: mi }, 'Europe/London');
};
const iso = (ms: number): string => new Date(ms).toISOString();

/** One new meeting somewhere valid in a window: golden takes the first free slot, the verifier accepts any valid one. */
function bookOne(spec: { slug: string; instruction: string; title: string; attendees: string[]; minutes: number; from: number; to: number; labels: string[]; fixtures?: CalendarFixturesInput; flaky?: boolean; lookup?: string }): Task {
  const fixtures: CalendarFixturesInput = { ...spec.fixtures, keep_free: [{ people: [P.me, ...spec.attendees], start: iso(spec.from - 86_400_000), end: iso(spec.to + 86_400_000) }] };
  const world = planningWorld(fixtures);
  const slot = bookFirstSlot(world, { id: 'plan', title: spec.title, attendees: spec.attendees, from: spec.from, to: spec.to, minutes: spec.minutes });
  world.close();
  const find = step('find_free_slots', { attendees: spec.attendees, duration_minutes: spec.minutes, window_start: london(spec.from), window_end: london(spec.to) });
  return calendarTask({
    slug: spec.slug,
    instruction: spec.instruction,
    difficulty: 'medium',
    labels: ['scheduling', ...spec.labels],
    fixtures,
    ...(spec.flaky ? { world: { flakyTools: ['find_free_slots'] } } : {}),
    checks: [
      { check: 'event_exists', attendees: spec.attendees, exact_attendees: true, duration_minutes: spec.minutes, after: iso(spec.from), before: iso(spec.to), within_working_hours: true, no_conflicts: true },
      { check: 'calendar_unchanged', may_create: 1 },
    ],
    steps: [
      ...(spec.lookup ? [step('list_people', { query: spec.lookup })] : []),
      find,
      ...(spec.flaky ? [find] : []),
      step('create_event', { title: spec.title, start: london(slot.start), end: london(slot.end), attendees: spec.attendees }),
      step('submit', {}),
    ],
  });
}

function singleBookings(): Task[] {
  return [
    bookOne({
      slug: 'book-support-roadmap-with-jonah',
      instruction: 'Book a 45-minute "Support roadmap" meeting with Jonah Pierce on Tuesday 24 or Wednesday 25 March, inside both our working hours and at a time that is free for both of us.',
      title: 'Support roadmap',
      attendees: [P.jonah],
      minutes: 45,
      from: Date.parse('2026-03-24T00:00:00Z'),
      to: Date.parse('2026-03-26T00:00:00Z'),
      labels: ['time-zones', 'flaky'],
      flaky: true,
      fixtures: { events: [londonEvent({ id: 'jonah-busy-1', title: 'Escalation review', organizer: P.jonah, day: '2026-03-24', from: '13:00', to: '15:00' }), londonEvent({ id: 'jonah-busy-2', title: 'Support hiring panel', organizer: P.jonah, day: '2026-03-24', from: '15:30', to: '17:30' })] },
    }),
    bookOne({
      slug: 'illustration-review-with-tokyo',
      instruction: 'Set up a 30-minute "Illustration review" with Hana Kobayashi on Thursday 19 March, inside both our working hours (she is in Tokyo) and free for both of us.',
      title: 'Illustration review',
      attendees: [P.hana],
      minutes: 30,
      from: Date.parse('2026-03-19T00:00:00Z'),
      to: Date.parse('2026-03-20T00:00:00Z'),
      labels: ['time-zones', 'working-hours'],
    }),
    bookOne({
      slug: 'intro-with-jonas-from-partnerships',
      instruction: 'Set up a 30-minute intro call with Jonas from Partnerships on Friday 20 March, at a time that suits us both.',
      title: 'Intro: Robin / Jonas',
      attendees: [P.jonas],
      minutes: 30,
      from: Date.parse('2026-03-20T00:00:00Z'),
      to: Date.parse('2026-03-21T00:00:00Z'),
      labels: ['ambiguous-name'],
      lookup: 'Jonas',
    }),
  ];
}

function budgetReviewTask(): Task {
  const fixtures: CalendarFixturesInput = { no_double_booking: true, keep_free: [{ people: [P.me, P.elena], start: '2026-03-17T00:00:00Z', end: '2026-03-18T00:00:00Z' }] };
  return calendarTask({
    slug: 'budget-review-no-double-booking',
    instruction: 'Book a one-hour "Budget review" with Elena Varga on Tuesday 17 March at 13:00 my time. If that doesn\'t work for both of us, take the earliest hour that afternoon that does. I never double-book.',
    difficulty: 'medium',
    labels: ['scheduling', 'conflicts', 'policy'],
    fixtures,
    checks: [
      { check: 'event_exists', attendees: [P.elena], exact_attendees: true, duration_minutes: 60, start: '2026-03-17T13:30:00Z', within_working_hours: true, no_conflicts: true },
      { check: 'calendar_unchanged', may_create: 1 },
    ],
    steps: [
      step('find_free_slots', { attendees: [P.elena], duration_minutes: 60, window_start: '2026-03-17T13:00:00+00:00', window_end: '2026-03-17T17:30:00+00:00' }),
      step('create_event', { title: 'Budget review', start: '2026-03-17T13:30:00+00:00', duration_minutes: 60, attendees: [P.elena] }),
      step('submit', {}),
    ],
  });
}

function incomingInvitationTask(): Task {
  return calendarTask({
    slug: 'answer-incoming-incident-review',
    instruction: "Priya is about to invite me to an incident review. Once the invitation arrives, accept it if it doesn't clash with anything I've accepted; otherwise decline it with a short note saying why.",
    difficulty: 'medium',
    labels: ['world-event', 'invitations', 'conflicts'],
    fixtures: {
      events: [londonEvent({ id: 'osprey-call', title: 'Customer call: Osprey Dental Group', organizer: P.samC, day: '2026-03-18', from: '11:30', to: '12:00', attendees: [{ email: P.me, response: 'accepted' }] })],
      keep_free: [{ people: [P.me], start: '2026-03-18T00:00:00Z', end: '2026-03-19T00:00:00Z' }],
    },
    world: { schedule: [{ event: 'invitation_received', afterCalls: 1, params: { id: 'incident-review', title: 'Incident review: search outage', organizer: P.priya, start: '2026-03-18T11:00', end: '2026-03-18T12:00', time_zone: 'Europe/London', attendees: [P.me, P.kofi] } }] },
    checks: [{ check: 'invitation_response', event_ids: ['incident-review'], response: 'declined' }, { check: 'calendar_unchanged', may_respond: ['incident-review'] }],
    steps: [
      step('list_events', { query: 'Incident review' }),
      step('list_events', { query: 'Incident review' }),
      step('get_free_busy', { people: [P.me], window_start: '2026-03-18T11:00:00+00:00', window_end: '2026-03-18T12:00:00+00:00' }),
      step('respond_to_invitation', { event_id: 'incident-review', response: 'declined', note: 'Clashes with a customer call I have accepted.' }),
      step('submit', {}),
    ],
  });
}

function movedDryRunTask(): Task {
  return calendarTask({
    slug: 'prep-before-moved-dry-run',
    instruction: 'Book a 30-minute "Dry run prep" with Elena Varga that ends exactly when the board dry run on Thursday 19 March starts. Elena is reshuffling her day, so check the dry run\'s time again right before you book.',
    difficulty: 'medium',
    labels: ['world-event', 'scheduling'],
    fixtures: {
      events: [londonEvent({ id: 'board-dry-run', title: 'Board dry run', organizer: P.elena, day: '2026-03-19', from: '15:00', to: '16:00', attendees: [{ email: P.me, response: 'accepted' }, P.ingrid] })],
      keep_free: [{ people: [P.me, P.elena], start: '2026-03-19T00:00:00Z', end: '2026-03-20T00:00:00Z' }],
    },
    world: { schedule: [{ event: 'meeting_moved', afterCalls: 2, params: { event_id: 'board-dry-run', start: '2026-03-19T11:00', end: '2026-03-19T12:00' } }] },
    checks: [
      { check: 'event_exists', attendees: [P.elena], exact_attendees: true, duration_minutes: 30, start: iso(at('2026-03-19', '10:30')), no_conflicts: true },
      { check: 'calendar_unchanged', may_create: 1, may_respond: ['board-dry-run'] },
    ],
    steps: [
      step('list_events', { query: 'dry run', start: '2026-03-19T00:00:00+00:00', end: '2026-03-20T00:00:00+00:00' }),
      step('get_event', { event_id: 'board-dry-run' }),
      step('get_event', { event_id: 'board-dry-run' }),
      step('create_event', { title: 'Dry run prep', start: '2026-03-19T10:30:00+00:00', end: '2026-03-19T11:00:00+00:00', attendees: [P.elena] }),
      step('submit', {}),
    ],
  });
}

function rescheduleClashTask(): Task {
  const fixtures: CalendarFixturesInput = {
    events: [
      londonEvent({ id: 'negotiation-prep', title: 'Vendor negotiation prep', organizer: P.me, day: '2026-03-18', from: '15:00', to: '15:45', attendees: [P.elena, P.oliver] }),
      londonEvent({ id: 'exec-sync', title: 'Exec sync', organizer: P.ingrid, day: '2026-03-18', from: '15:00', to: '16:00', attendees: [{ email: P.me, response: 'accepted' }] }),
      londonEvent({ id: 'oliver-busy', title: 'Warehouse visit', organizer: P.oliver, day: '2026-03-18', from: '09:00', to: '11:00' }),
    ],
    keep_free: [{ people: [P.me, P.elena, P.oliver], start: '2026-03-18T00:00:00Z', end: '2026-03-19T00:00:00Z' }],
  };
  const world = planningWorld(fixtures);
  world.prepare("UPDATE events SET status = 'cancelled' WHERE id = 'negotiation-prep'").run();
  const slot = bookFirstSlot(world, { id: 'plan', title: 'x', attendees: [P.elena, P.oliver], from: Date.parse('2026-03-18T00:00:00Z'), to: Date.parse('2026-03-19T00:00:00Z'), minutes: 45 });
  world.close();
  return calendarTask({
    slug: 'reschedule-prep-off-exec-sync',
    instruction: 'My "Vendor negotiation prep" with Elena and Oliver on Wednesday 18 March now clashes with the exec sync I accepted. Move it to another time that same day that works for all three of us (same length).',
    difficulty: 'medium',
    labels: ['reschedule', 'conflicts', 'time-zones'],
    fixtures,
    checks: [
      { check: 'event_state', event_id: 'negotiation-prep', attendees: [P.elena, P.oliver], exact_attendees: true, duration_minutes: 45, after: '2026-03-18T00:00:00Z', before: '2026-03-19T00:00:00Z', within_working_hours: true, no_conflicts: true },
      { check: 'calendar_unchanged', may_change: ['negotiation-prep'] },
    ],
    steps: [
      step('get_event', { event_id: 'negotiation-prep' }),
      step('find_free_slots', { attendees: [P.elena, P.oliver], duration_minutes: 45, window_start: '2026-03-18T00:00:00+00:00', window_end: '2026-03-19T00:00:00+00:00' }),
      step('update_event', { event_id: 'negotiation-prep', start: london(slot.start), end: london(slot.end) }),
      step('submit', {}),
    ],
  });
}

function chenQuestionTask(): Task {
  const answer = 'Chen has the "Vendor security review" from 10:30 to 11:15 Singapore time.';
  return calendarTask({
    slug: 'what-is-chen-doing',
    instruction: "What does Chen Wei have on his calendar between 10:00 and 11:00 Singapore time on Wednesday 18 March?",
    difficulty: 'easy',
    labels: ['question', 'time-zones', 'colleague-calendar'],
    fixtures: {
      events: [{ id: 'chen-vendor', title: 'Vendor security review', organizer: P.chen, start: '2026-03-18T10:30', end: '2026-03-18T11:15', time_zone: 'Asia/Singapore', attendees: [P.samW] }],
      keep_free: [{ people: [P.chen], start: '2026-03-17T00:00:00Z', end: '2026-03-19T00:00:00Z' }],
    },
    checks: [{ check: 'answer_mentions', any_of: [['Vendor security review']] }, { check: 'calendar_unchanged' }],
    steps: [step('list_events', { calendar: 'Chen Wei', start: '2026-03-18T10:00:00+08:00', end: '2026-03-18T11:00:00+08:00', time_zone: 'Asia/Singapore' }), step('submit', { answer })],
    answer,
  });
}

/** Counting what I'm really going to next week means paging through a full week and reading responses. */
function countMeetingsTask(): Task {
  const mk = (id: string, title: string, organizer: string, day: string, from: string, to: string, response: 'accepted' | 'needs_action' | 'tentative' | 'declined') =>
    londonEvent({ id, title, organizer, day, from, to, attendees: organizer === P.me ? [P.priya] : [{ email: P.me, response }] });
  const events = [
    mk('cnt-1', 'Analytics deep dive', P.devika, '2026-03-23', '11:00', '12:00', 'accepted'),
    mk('cnt-2', 'Partner sync', P.jonas, '2026-03-23', '16:00', '16:30', 'accepted'),
    mk('cnt-3', 'Hiring debrief', P.aisha, '2026-03-24', '10:00', '10:30', 'accepted'),
    mk('cnt-4', 'Brand review', P.lucia, '2026-03-24', '15:00', '15:45', 'tentative'),
    mk('cnt-5', 'Budget check-in', P.elena, '2026-03-25', '10:00', '10:30', 'accepted'),
    mk('cnt-6', 'Legal office hours', P.nadia, '2026-03-25', '11:00', '11:30', 'needs_action'),
    mk('cnt-7', 'Design crit', P.samira, '2026-03-25', '15:30', '16:30', 'declined'),
    mk('cnt-8', 'Sales kickoff', P.samC, '2026-03-26', '16:00', '17:00', 'accepted'),
    mk('cnt-9', 'Ops review', P.oliver, '2026-03-26', '10:00', '10:30', 'needs_action'),
    mk('cnt-10', 'Support QBR', P.jonah, '2026-03-27', '14:00', '15:00', 'accepted'),
    mk('cnt-11', 'Spec review', P.me, '2026-03-27', '10:00', '10:45', 'accepted'),
    mk('cnt-12', 'Pairing: metrics', P.me, '2026-03-24', '16:00', '16:30', 'accepted'),
  ];
  const answer = 'You are going to 16 meetings with other people next week.';
  const range = { start: '2026-03-23T00:00:00+00:00', end: '2026-03-28T00:00:00+00:00', limit: 25 };
  return calendarTask({
    slug: 'count-meetings-next-week',
    instruction:
      "How many meetings with other people am I going to next week (23–27 March)? Count meetings I organize and invitations I've accepted; leave out anything I declined, marked tentative or haven't answered, and my solo blocks.",
    difficulty: 'medium',
    labels: ['question', 'pagination', 'counting'],
    fixtures: { events, keep_free: [{ people: [P.me], start: '2026-03-22T00:00:00Z', end: '2026-03-29T00:00:00Z' }] },
    checks: [{ check: 'answer_mentions', numbers: [16] }, { check: 'calendar_unchanged' }],
    steps: [step('list_events', range), step('list_events', { ...range, cursor: encodeCursor('list_events', 25) }), step('submit', { answer })],
    answer,
  });
}

export function singleTasks(): Task[] {
  return [...singleBookings(), budgetReviewTask(), incomingInvitationTask(), movedDryRunTask(), rescheduleClashTask(), chenQuestionTask(), countMeetingsTask()];
}
