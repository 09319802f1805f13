import type { Task, ToolInvocation } from '../../../core/index.ts';
import { P } from '../people.ts';
import { encodeCursor } from '../view.ts';
import { calendarTask, londonEvent, planningWorld, step } from './common.ts';

/** Out of office for three days: decline every invitation in the period with a note; my own meetings stay. */
function oooTask(): Task {
  const invites = [
    ['Quarterly business review', P.samC, '2026-04-20', '14:00', '15:00'],
    ['Design QA', P.hana, '2026-04-20', '10:00', '10:30'],
    ['Budget sign-off', P.elena, '2026-04-21', '11:00', '11:30'],
    ['Customer advisory board prep', P.lucia, '2026-04-21', '15:00', '16:00'],
    ['Platform roadmap', P.marcus, '2026-04-22', '10:00', '11:00'],
    ['Support tooling demo', P.jonah, '2026-04-22', '15:30', '16:00'],
  ] as const;
  const events = [
    ...invites.map(([title, organizer, day, from, to], i) => londonEvent({ id: `ooo-${i + 1}`, title, organizer, day, from, to, attendees: [{ email: P.me, response: i % 2 ? 'accepted' : 'needs_action' }] })),
    londonEvent({ id: 'ooo-mine', title: 'Interview debrief', organizer: P.me, day: '2026-04-21', from: '16:00', to: '16:30', attendees: [P.aisha] }),
    londonEvent({ id: 'ooo-after', title: 'Retro', organizer: P.priya, day: '2026-04-23', from: '10:00', to: '11:00', attendees: [{ email: P.me, response: 'needs_action' }] }),
  ];
  const decline = [...invites.map((_, i) => `ooo-${i + 1}`), 'standup-20260420', 'standup-20260421', 'standup-20260422', 'eng-weekly-20260420', 'ingrid-1on1-20260421'];
  const steps: ToolInvocation[] = [
    step('list_events', { start: '2026-04-20T00:00:00+01:00', end: '2026-04-23T00:00:00+01:00', limit: 25 }),
    ...decline.map((id) => step('respond_to_invitation', { event_id: id, response: 'declined', note: 'Out of office' })),
    step('submit', {}),
  ];
  return calendarTask({
    slug: 'decline-while-out-of-office',
    instruction: "I'm out of office from Monday 20 to Wednesday 22 April. Decline every meeting I've been invited to in those three days with the note \"Out of office\". Don't touch the meetings I organize.",
    difficulty: 'medium',
    labels: ['invitations', 'bulk'],
    fixtures: { events, keep_free: [{ people: [P.me], start: '2026-04-19T00:00:00Z', end: '2026-04-24T00:00:00Z' }] },
    checks: [
      { check: 'invitation_response', name: 'declined while away', event_ids: decline, response: 'declined', note_contains: 'out of office' },
      { check: 'invitation_response', name: 'retro after return untouched', event_ids: ['ooo-after'], response: 'needs_action' },
      { check: 'calendar_unchanged', may_respond: decline },
    ],
    steps,
  });
}

const MODULES = ['Getting started', 'Automations', 'Reporting', 'Permissions', 'Integrations'];

/** Ten training sessions: morning ones (by London time) in one room, afternoon ones in another. */
function trainingRoomsTask(): Task {
  const days = ['2026-03-30', '2026-03-31', '2026-04-01', '2026-04-02', '2026-04-03'];
  const sessions = days.flatMap((day, d) => [
    { id: `train-${d * 2 + 1}`, day, from: '10:00', to: '11:00', module: MODULES[d]!, room: 'Atlas room' },
    { id: `train-${d * 2 + 2}`, day, from: d === 2 ? '11:30' : '14:30', to: d === 2 ? '12:30' : '15:30', module: MODULES[(d + 2) % 5]!, room: d === 2 ? 'Atlas room' : 'Birch room' },
  ]);
  const events = [
    ...sessions.map((s, i) =>
      londonEvent({ id: s.id, title: `Customer training: ${s.module}`, organizer: P.me, day: s.day, from: s.from, to: s.to, attendees: [P.lucia, P.jonah], ...(i === 0 ? { location: 'Atlas room' } : {}) }),
    ),
    londonEvent({ id: 'train-dry-run', title: 'Customer training dry run', organizer: P.lucia, day: '2026-03-30', from: '15:00', to: '15:30', attendees: [P.me] }),
  ];
  const todo = sessions.slice(1);
  const steps: ToolInvocation[] = [
    step('list_events', { start: '2026-03-30T00:00:00+01:00', end: '2026-04-04T00:00:00+01:00', query: 'Customer training', limit: 25 }),
    ...todo.map((s) => step('update_event', { event_id: s.id, location: s.room })),
    step('submit', {}),
  ];
  return calendarTask({
    slug: 'set-training-rooms',
    instruction: 'Set the location of each of my "Customer training" sessions in the week of 30 March: sessions that start before noon London time are in "Atlas room", the rest in "Birch room".',
    difficulty: 'medium',
    labels: ['bulk', 'update', 'time-zones'],
    fixtures: { events },
    checks: [...sessions.map((s) => ({ check: 'event_state', name: `${s.id} room`, event_id: s.id, location_contains: s.room })), { check: 'calendar_unchanged', may_change: todo.map((s) => s.id) }],
    steps,
  });
}

/** Marcus has left: take him off every upcoming meeting I organize; past ones and others' meetings stay. */
function removeDepartedTask(): Task {
  const meetings = [
    ['Infra cost review', '2026-03-17', '10:00', '10:30'],
    ['On-call handbook rewrite', '2026-03-19', '14:00', '14:45'],
    ['Platform roadmap sync', '2026-03-24', '11:00', '11:30'],
    ['Incident review: checkout', '2026-03-27', '15:00', '16:00'],
    ['Capacity planning', '2026-04-01', '10:00', '10:30'],
    ['Queue migration go/no-go', '2026-04-08', '14:00', '14:30'],
    ['Observability budget', '2026-04-15', '11:00', '11:45'],
    ['Platform roadmap sync', '2026-04-22', '11:00', '11:30'],
  ] as const;
  const events = [
    ...meetings.map(([title, day, from, to], i) => londonEvent({ id: `mx-${i + 1}`, title, organizer: P.me, day, from, to, attendees: [P.marcus, P.priya] })),
    londonEvent({ id: 'mx-past', title: 'Platform roadmap sync', organizer: P.me, day: '2026-03-10', from: '11:00', to: '11:30', attendees: [P.marcus, P.priya] }),
    londonEvent({ id: 'mx-priya', title: 'Architecture forum', organizer: P.priya, day: '2026-03-25', from: '14:00', to: '15:00', attendees: [P.marcus, P.me] }),
  ];
  const fixtures = { events, keep_free: [{ people: [P.marcus], start: '2026-03-01T00:00:00Z', end: '2026-04-30T00:00:00Z' }] };
  const range = { calendar: P.marcus, start: '2026-03-16T09:00:00Z', end: '2026-04-25T00:00:00Z', limit: 25 };
  const world = planningWorld(fixtures);
  const total = (world.prepare("SELECT COUNT(*) AS n FROM events e JOIN attendees a ON a.event_id = e.id WHERE a.email = ? AND e.status = 'confirmed' AND e.start_utc < ? AND e.end_utc > ?").get(P.marcus, '2026-04-25T00:00:00.000Z', '2026-03-16T09:00:00.000Z') as { n: number }).n;
  world.close();
  const steps: ToolInvocation[] = [step('list_events', range)];
  for (let offset = 25; offset < total; offset += 25) steps.push(step('list_events', { ...range, cursor: encodeCursor('list_events', offset) }));
  steps.push(...meetings.map((_, i) => step('remove_attendee', { event_id: `mx-${i + 1}`, attendee: P.marcus })), step('submit', {}));
  const changed = meetings.map((_, i) => `mx-${i + 1}`);
  return calendarTask({
    slug: 'remove-departed-colleague',
    instruction: "Marcus Lindqvist has left the company. Take him off every upcoming meeting that I organize (from now until the end of April). Leave past meetings and other people's meetings alone.",
    difficulty: 'medium',
    labels: ['attendees', 'bulk', 'pagination'],
    fixtures,
    checks: [...changed.map((id) => ({ check: 'event_state', name: `${id} without Marcus`, event_id: id, attendees: [P.priya], attendees_exclude: [P.marcus] })), { check: 'calendar_unchanged', may_change: changed }],
    steps,
  });
}

export function maintenanceTasks(): Task[] {
  return [oooTask(), trainingRoomsTask(), removeDepartedTask()];
}
