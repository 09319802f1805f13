import type { JsonObject, Task, ToolInvocation } from '../../../core/index.ts';
import { P } from '../people.ts';
import { encodeCursor } from '../view.ts';
import { calendarTask, londonEvent, myEventsBetween, planningWorld, step } from './common.ts';

const OFFSITE_DAYS = ['2026-03-24', '2026-03-25', '2026-03-26'];

/** Three offsite days: cancel my meetings with others, decline every invitation not yet declined. */
function offsiteTask(): Task {
  const mine = [
    ['Pricing page copy review', '10:00', '10:30', [P.lucia]],
    ['Onboarding funnel deep dive', '11:00', '12:00', [P.devika, P.priya]],
    ['Partner API scoping', '15:00', '15:45', [P.jonas, P.kofi]],
    ['Churn interviews synthesis', '10:00', '11:00', [P.samira]],
    ['Roadmap review prep', '15:30', '16:00', [P.ingrid]],
    ['Billing edge cases', '16:00', '16:30', [P.tomas, P.elena]],
    ['Support macros refresh', '11:00', '11:30', [P.jonah]],
    ['Beta feedback triage', '14:00', '14:45', [P.chen, P.hana]],
    ['Security questionnaire answers', '16:00', '16:30', [P.samW]],
  ] as const;
  const invites = [
    ['Legal review: new terms', P.nadia, '14:00', '14:30'],
    ['Finance: Q2 forecast', P.elena, '16:45', '17:15'],
    ['Design crit', P.samira, '11:00', '11:45'],
    ['Ops: office move', P.oliver, '14:30', '15:00'],
    ['Sales pipeline review', P.samC, '16:00', '16:30'],
    ['People: mentoring kickoff', P.aisha, '10:00', '10:30'],
    ['Data quality review', P.devika, '11:00', '11:30'],
    ['Incident drill', P.priya, '15:00', '15:30'],
  ] as const;
  const events = [
    ...mine.map(([title, from, to, guests], i) => londonEvent({ id: `off-mine-${i + 1}`, title, organizer: P.me, day: OFFSITE_DAYS[i % 3]!, from, to, attendees: [...guests] })),
    ...invites.map(([title, organizer, from, to], i) => londonEvent({ id: `off-inv-${i + 1}`, title, organizer, day: OFFSITE_DAYS[(i + 1) % 3]!, from, to, attendees: [{ email: P.me, response: i % 3 === 0 ? 'accepted' : 'needs_action' }] })),
    londonEvent({ id: 'off-declined', title: 'Vendor lunch', organizer: P.oliver, day: '2026-03-25', from: '12:00', to: '13:00', attendees: [{ email: P.me, response: 'declined' }] }),
  ];
  const fixtures = { events, keep_free: [{ people: [P.me], start: '2026-03-23T23:00:00Z', end: '2026-03-27T00:00:00Z' }] };
  const cancel = [...mine.map((_, i) => `off-mine-${i + 1}`), 'product-sync-20260326'];
  const decline = [...invites.map((_, i) => `off-inv-${i + 1}`), 'standup-20260324', 'standup-20260325', 'standup-20260326', 'ingrid-1on1-20260324'];
  const range = { start: '2026-03-24T00:00:00+00:00', end: '2026-03-27T00:00:00+00:00', limit: 25 };
  const world = planningWorld(fixtures);
  const total = myEventsBetween(world, range.start, range.end).length;
  world.close();
  const steps: ToolInvocation[] = [step('list_events', range)];
  for (let offset = 25; offset < total; offset += 25) steps.push(step('list_events', { ...range, cursor: encodeCursor('list_events', offset) }));
  steps.push(...cancel.map((id) => step('cancel_event', { event_id: id })), ...decline.map((id) => step('respond_to_invitation', { event_id: id, response: 'declined', note: 'At the offsite' })), step('submit', {}));
  return calendarTask({
    slug: 'offsite-clear-calendar',
    instruction:
      "I'll be at the partner offsite all day from Tuesday 24 to Thursday 26 March. For those three days, cancel the meetings I organize that have other people in them (just those occurrences, not whole series), and decline every invitation I haven't already declined, with the note \"At the offsite\". Leave my solo blocks alone.",
    difficulty: 'hard',
    labels: ['bulk', 'cancel', 'invitations', 'pagination', 'long-horizon'],
    fixtures,
    checks: [
      ...cancel.map((id) => ({ check: 'event_state', name: `${id} cancelled`, event_id: id, status: 'cancelled' })),
      { check: 'invitation_response', name: 'offsite declines', event_ids: decline, response: 'declined', note_contains: 'offsite' },
      { check: 'calendar_unchanged', may_cancel: cancel, may_respond: decline },
    ],
    steps,
    family: { name: 'offsite-clear-calendar', params: { cancel: cancel.length, decline: decline.length } },
  });
}

type Verdict = 'accepted' | 'declined' | 'tentative';

/** Twenty pending invitations answered by a rule: organizer's team, and clashes with accepted events only. */
function respondByPolicyTask(): Task {
  const invites: [string, string, string, string, string, Verdict][] = [
    ['API deprecation plan', P.priya, '2026-03-30', '10:00', '10:30', 'accepted'],
    ['Incident follow-up', P.marcus, '2026-03-30', '14:30', '15:00', 'declined'],
    ['Mobile release go/no-go', P.kofi, '2026-03-30', '16:00', '16:30', 'accepted'],
    ['Search relevance review', P.chen, '2026-03-31', '09:00', '09:45', 'declined'],
    ['Billing migration check-in', P.tomas, '2026-03-31', '15:30', '16:00', 'accepted'],
    ['Roadmap trade-offs', P.ingrid, '2026-03-31', '13:15', '14:00', 'declined'],
    ['Hiring loop calibration', P.priya, '2026-04-01', '10:00', '10:45', 'accepted'],
    ['Capacity planning', P.marcus, '2026-04-01', '16:00', '17:00', 'declined'],
    ['Pairing: webhooks', P.kofi, '2026-04-02', '10:30', '11:30', 'accepted'],
    ['Pricing experiment readout', P.ingrid, '2026-04-02', '16:15', '16:45', 'declined'],
    ['Architecture review', P.chen, '2026-04-03', '11:00', '12:00', 'accepted'],
    ['Data residency sync', P.tomas, '2026-04-03', '14:00', '14:30', 'accepted'],
    ['Design system office hours', P.samira, '2026-03-30', '11:00', '11:30', 'tentative'],
    ['Office move briefing', P.oliver, '2026-03-30', '11:45', '12:15', 'tentative'],
    ['Engagement survey results', P.aisha, '2026-03-31', '10:00', '10:30', 'tentative'],
    ['Q2 budget walkthrough', P.elena, '2026-03-31', '11:00', '12:00', 'tentative'],
    ['Contract playbook training', P.nadia, '2026-04-01', '11:00', '12:00', 'tentative'],
    ['Launch messaging review', P.lucia, '2026-04-02', '14:00', '14:30', 'tentative'],
    ['Escalations review', P.jonah, '2026-04-02', '15:00', '15:30', 'tentative'],
    ['Phishing drill debrief', P.samW, '2026-04-01', '15:45', '16:15', 'tentative'],
  ];
  const events = [
    ...invites.map(([title, organizer, day, from, to], i) => londonEvent({ id: `pol-${i + 1}`, title, organizer, day, from, to, attendees: [{ email: P.me, response: 'needs_action' }, P.devika] })),
    londonEvent({ id: 'pol-visit', title: 'Customer visit: Kestrel Biosciences', organizer: P.samC, day: '2026-04-01', from: '15:30', to: '16:30', attendees: [{ email: P.me, response: 'accepted' }] }),
    londonEvent({ id: 'pol-demo', title: 'Vendor demo', organizer: P.oliver, day: '2026-03-31', from: '15:30', to: '16:15', attendees: [{ email: P.me, response: 'tentative' }] }),
    londonEvent({ id: 'pol-old', title: 'Old planning sync', organizer: P.ingrid, day: '2026-03-30', from: '10:00', to: '10:30', attendees: [{ email: P.me, response: 'declined' }] }),
  ];
  const fixtures = { events, keep_free: [{ people: [P.me], start: '2026-03-29T00:00:00Z', end: '2026-04-04T00:00:00Z' }] };
  const range = { start: '2026-03-30T00:00:00+01:00', end: '2026-04-04T00:00:00+01:00', limit: 25 };
  const world = planningWorld(fixtures);
  const total = myEventsBetween(world, range.start, range.end).length;
  world.close();
  const steps: ToolInvocation[] = [step('list_people', {}), step('list_events', range)];
  for (let offset = 25; offset < total; offset += 25) steps.push(step('list_events', { ...range, cursor: encodeCursor('list_events', offset) }));
  invites.forEach(([, , , , , verdict], i) => steps.push(step('respond_to_invitation', { event_id: `pol-${i + 1}`, response: verdict })));
  steps.push(step('submit', {}));
  const ids = (v: Verdict) => invites.flatMap((inv, i) => (inv[5] === v ? [`pol-${i + 1}`] : []));
  const checks: JsonObject[] = (['accepted', 'declined', 'tentative'] as Verdict[]).map((v) => ({ check: 'invitation_response', name: `${v} invitations`, event_ids: ids(v), response: v }));
  checks.push({ check: 'calendar_unchanged', may_respond: invites.map((_, i) => `pol-${i + 1}`) });
  return calendarTask({
    slug: 'answer-invitations-by-policy',
    instruction:
      "Go through my pending invitations for the week of 30 March. If the organizer is in Product or Engineering, accept — unless it overlaps something I've already accepted, in which case decline it. Invitations from anyone in other teams get a tentative reply. Don't change anything else.",
    difficulty: 'hard',
    labels: ['invitations', 'rules', 'conflicts', 'pagination', 'long-horizon'],
    fixtures,
    checks,
    steps,
    family: { name: 'answer-invitations-by-policy', params: { invitations: invites.length } },
  });
}

const HANDOVER_LINE = 'Robin is on leave — Ingrid will run this meeting.';

/** Twelve meetings I organize during my leave: Ingrid joins each and its description gains a line. */
function handoverTask(): Task {
  const meetings = [
    ['Growth experiments review', '2026-04-06', '10:00', '10:45', [P.devika, P.lucia], 'Agenda: results of the March tests.'],
    ['Pricing council', '2026-04-07', '11:00', '12:00', [P.elena, P.samC], 'Agenda: enterprise discount bands.'],
    ['Partner API office hours', '2026-04-07', '15:00', '15:30', [P.jonas], 'Open questions from partners.'],
    ['Onboarding redesign check-in', '2026-04-08', '10:00', '10:30', [P.samira, P.hana], 'Review the new checklist screens.'],
    ['Support escalations sync', '2026-04-08', '14:30', '15:00', [P.jonah], 'Top escalations of the week.'],
    ['Release notes review', '2026-04-10', '11:00', '11:30', [P.lucia, P.priya], 'Review the April release notes draft.'],
    ['Data contracts workshop', '2026-04-13', '13:30', '15:00', [P.devika, P.chen], 'Workshop on billing data contracts.'],
    ['Mobile roadmap sync', '2026-04-14', '10:00', '10:45', [P.kofi, P.hana], 'Q2 mobile priorities.'],
    ['Security review follow-up', '2026-04-15', '16:00', '16:30', [P.samW], 'Close out the open findings.'],
    ['Vendor renewal decision', '2026-04-17', '11:00', '11:30', [P.oliver, P.elena], 'Decide on the analytics vendor renewal.'],
  ] as const;
  const events = [
    ...meetings.map(([title, day, from, to, guests, description], i) => londonEvent({ id: `ho-${i + 1}`, title, organizer: P.me, day, from, to, attendees: [...guests], description })),
    londonEvent({ id: 'ho-theirs', title: 'Design crit', organizer: P.samira, day: '2026-04-09', from: '10:00', to: '11:00', attendees: [P.me] }),
    londonEvent({ id: 'ho-solo', title: 'Write Q2 memo', organizer: P.me, day: '2026-04-16', from: '14:00', to: '16:00', description: 'Solo writing block.' }),
  ];
  const fixtures = { events, keep_free: [{ people: [P.me], start: '2026-04-05T00:00:00Z', end: '2026-04-18T00:00:00Z' }] };
  const range = { start: '2026-04-06T00:00:00+01:00', end: '2026-04-18T00:00:00+01:00', limit: 25 };
  const world = planningWorld(fixtures);
  const total = myEventsBetween(world, range.start, range.end).length;
  world.close();
  const steps: ToolInvocation[] = [step('list_events', range)];
  for (let offset = 25; offset < total; offset += 25) steps.push(step('list_events', { ...range, cursor: encodeCursor('list_events', offset) }));
  meetings.forEach(([, , , , , description], i) => steps.push(step('add_attendee', { event_id: `ho-${i + 1}`, attendee: P.ingrid }), step('update_event', { event_id: `ho-${i + 1}`, description: `${description}\n${HANDOVER_LINE}` })));
  for (const id of ['product-sync-20260409', 'product-sync-20260416']) steps.push(step('update_event', { event_id: id, description: HANDOVER_LINE }));
  steps.push(step('submit', {}));
  const changed = [...meetings.map((_, i) => `ho-${i + 1}`), 'product-sync-20260409', 'product-sync-20260416'];
  const checks: JsonObject[] = changed.map((id, i) => ({
    check: 'event_state',
    name: `${id} handed over`,
    event_id: id,
    attendees: [P.ingrid],
    description_contains: ['Ingrid will run this meeting', ...(i < meetings.length ? [meetings[i]![5]] : [])],
  }));
  checks.push({ check: 'calendar_unchanged', may_change: changed });
  return calendarTask({
    slug: 'hand-over-meetings-during-leave',
    instruction: `I'm on leave from 6 to 17 April. For every meeting I organize in that period that has other people in it, make sure Ingrid Solberg is invited, and add this line to the end of its description (keep what's there): "${HANDOVER_LINE}"`,
    difficulty: 'hard',
    labels: ['bulk', 'attendees', 'pagination', 'long-horizon'],
    fixtures,
    checks,
    steps,
    family: { name: 'hand-over-meetings-during-leave', params: { meetings: changed.length } },
  });
}

export function bulkTasks(): Task[] {
  return [offsiteTask(), respondByPolicyTask(), handoverTask()];
}
