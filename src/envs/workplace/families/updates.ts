import type { Task } from '../../../core/index.ts';
import { P } from '../people.ts';
import { step, workplaceTask } from './common.ts';

// The world changes while the agent works: a decision posted in chat, a meeting moved by its
// organiser, a new invitation, a credit note by mail. Each task keeps the path that ignores the
// change (`stale`), which the tests prove fails.

const LAUNCH_PARTNERS = [
  { company: 'Kelpie Analytics', name: 'Freya Gostelow', email: 'freya.gostelow@kelpie-analytics.example' },
  { company: 'Orchard Print Co', name: 'Cosmo Drummond', email: 'cosmo@orchardprint.example' },
  { company: 'Tern Cloud', name: 'Abel Fairbairn', email: 'abel.fairbairn@terncloud.example' },
  { company: 'Saltmarsh Studio', name: 'Petra Inchbald', email: 'petra@saltmarsh.example' },
];

export function launchSlipTask(): Task {
  const mail = (date: string) => LAUNCH_PARTNERS.map((p) => step('send_message', { to: [p.email], subject: 'Atlas launch date', body: `Hi ${p.name.split(' ')[0]!},\n\nA quick note that the Atlas launch is on ${date}. We'll send the partner kit a week before.\n\nRobin` }));
  const head = [step('notes_search', { query: 'Atlas launch plan' }), step('get_page', { page_id: 'atlas-plan' })];
  return workplaceTask({
    slug: 'atlas-launch-date-to-partners',
    instruction:
      "Let our four Atlas launch partners know the launch date — one email each; they're on the Atlas launch plan page in Notes, which also has the date. Post the date in #product too, and make sure the plan page shows the right date. Launch decisions are announced in #product.",
    difficulty: 'medium',
    labels: ['cross-app', 'notes', 'mail', 'chat', 'world-event', 'stale-facts'],
    notes: {
      pages: [
        {
          id: 'atlas-plan',
          parent: 'projects',
          title: 'Atlas launch plan',
          author: 'u-ingrid',
          age_days: 6,
          blocks: ['# Date', 'Launch date: Tuesday 7 April 2026', '# Launch partners', ...LAUNCH_PARTNERS.map((p) => `- ${p.company}: ${p.name} <${p.email}>`), '# Channels', '- Blog post, in-app banner, partner newsletters'],
        },
      ],
    },
    chat: { messages: [{ id: 'cm_6600', channel: 'product', author: 'lucia.f', text: 'Partner newsletter copy for Atlas is drafted, waiting on the final date.', minutesAgo: 240 }] },
    world: {
      schedule: [
        { event: 'chat_message_posted', afterCalls: 2, params: { id: 'cm_6601', channel: 'product', author: 'ingrid', text: "Decision from this morning's leads meeting: the Atlas launch moves to Tuesday 14 April (payment certification slipped). Please update anything external." } },
      ],
    },
    checks: [
      { check: 'block_state', name: 'plan page shows 14 April', block_id: 'atlas-plan-b2', contains: ['14'], excludes: ['7 April'] },
      ...LAUNCH_PARTNERS.map((p) => ({ check: 'message_sent', name: `date to ${p.company}`, to: [p.email], bodyContains: ['14 April|April 14|14/04|2026-04-14|14th April|April 14th'], bodyExcludes: ['7 April|April 7|07/04|2026-04-07|7th April|April 7th'] })),
      { check: 'chat_message_posted', name: 'date in #product', channel: '#product', contains: ['14 April|April 14|2026-04-14|14th April|April 14th'] },
      { check: 'workplace_unchanged', mail: { allowed: LAUNCH_PARTNERS.map((p) => p.email), max: LAUNCH_PARTNERS.length }, notes: { may_edit_content: ['atlas-plan'] }, chat: { channels: ['#product'], max_posts: 1 } },
    ],
    steps: [
      ...head,
      step('read_channel', { channel: '#product' }),
      step('update_block', { block_id: 'atlas-plan-b2', text: 'Launch date: Tuesday 14 April 2026' }),
      ...mail('Tuesday 14 April'),
      step('post_message', { channel: '#product', text: 'Atlas launch date is Tuesday 14 April; all four launch partners have been told.' }),
      step('submit', {}),
    ],
    stale: [...head, ...mail('Tuesday 7 April'), step('post_message', { channel: '#product', text: 'Atlas launch date is Tuesday 7 April; partners told.' }), step('submit', {})],
    family: { name: 'world-updates', params: { variant: 'decision-in-chat' } },
  });
}

const JUN = { name: 'Jun Kilbride', email: 'j.kilbride@hollowbrook.example' };

export function callMovedTask(): Task {
  const confirm = (time: string) => step('send_message', { to: [JUN.email], subject: 'Hollowbrook renewal call tomorrow', body: `Hi Jun,\n\nConfirming our renewal call tomorrow, Wednesday 18 March, at ${time} London time. Link: Meet: hollowbrook-renewal\n\nBest,\nRobin` });
  return workplaceTask({
    slug: 'confirm-moved-customer-call',
    instruction:
      "Email Jun Kilbride at Hollowbrook Insurance to confirm the time of tomorrow's renewal call (it's on my calendar; Sam C organises it) and include the meeting link. Then DM Sam C that it's confirmed.",
    difficulty: 'medium',
    labels: ['cross-app', 'calendar', 'mail', 'chat', 'world-event', 'stale-facts'],
    mail: { contacts: [{ name: JUN.name, email: JUN.email, company: 'Hollowbrook Insurance' }] },
    calendar: {
      events: [
        { id: 'hollowbrook-call', title: 'Hollowbrook renewal call', organizer: P.samC.email, start: '2026-03-18T15:00:00Z', duration_minutes: 45, time_zone: 'Europe/London', attendees: [P.me.email, JUN.email], location: 'Meet: hollowbrook-renewal' },
      ],
      keep_free: [{ people: [P.me.email, P.samC.email], start: '2026-03-18T14:00:00Z', end: '2026-03-18T18:00:00Z' }],
    },
    world: {
      schedule: [
        { event: 'meeting_moved', afterCalls: 1, params: { event_id: 'hollowbrook-call', start: '2026-03-18T16:30:00Z', end: '2026-03-18T17:15:00Z' } },
        { event: 'chat_message_posted', afterCalls: 1, params: { id: 'cm_6651', channel: '@sam.c', author: 'sam.c', text: "FYI I just moved tomorrow's Hollowbrook call to 16:30 — their CFO can't make 15:00." } },
      ],
    },
    checks: [
      { check: 'message_sent', name: 'time to Jun', to: [JUN.email], bodyContains: ['16:30|4:30|4.30', 'hollowbrook-renewal'], bodyExcludes: ['15:00|3pm|3 pm|3:00'] },
      { check: 'chat_dm_sent', name: 'Sam C told', to: 'sam.c' },
      { check: 'workplace_unchanged', mail: { allowed: [JUN.email], max: 1 }, calendar: { may_respond: ['hollowbrook-call'] }, chat: { dms: ['sam.c'], max_posts: 1 } },
    ],
    steps: [
      step('list_events', { query: 'Hollowbrook', start: '2026-03-18T00:00:00Z', end: '2026-03-19T00:00:00Z' }),
      step('list_channels', {}),
      step('read_channel', { channel: '@sam.c' }),
      step('get_event', { event_id: 'hollowbrook-call' }),
      confirm('16:30'),
      step('send_direct_message', { to: '@sam.c', text: "Confirmed the 16:30 time with Jun at Hollowbrook." }),
      step('submit', {}),
    ],
    stale: [step('get_event', { event_id: 'hollowbrook-call' }), confirm('15:00'), step('send_direct_message', { to: '@sam.c', text: 'Confirmed with Jun.' }), step('submit', {})],
    family: { name: 'world-updates', params: { variant: 'meeting-moved' } },
  });
}

export function clashingInvitesTask(): Task {
  const decline = (id: string) => step('respond_to_invitation', { event_id: id, response: 'declined', note: 'Sorry, this clashes with my 1:1 with Ingrid.' });
  const today = { start: '2026-03-17T08:30:00Z', end: '2026-03-18T00:00:00Z' };
  return workplaceTask({
    slug: 'decline-clashes-with-1on1',
    instruction:
      'Decline any invitation for today that overlaps my 1:1 with Ingrid, with a short note saying why, and DM each of those organisers to suggest finding another time. Leave my other invitations alone. New invitations can come in while you work.',
    difficulty: 'medium',
    labels: ['cross-app', 'calendar', 'chat', 'invitations', 'world-event'],
    calendar: {
      events: [
        { id: 'mkt-sync-0317', title: 'Marketing sync', organizer: P.lucia.email, start: '2026-03-17T12:45:00Z', duration_minutes: 30, time_zone: 'Europe/London', attendees: [{ email: P.me.email, response: 'needs_action' }, P.hana.email] },
        { id: 'design-crit-0317', title: 'Design crit', organizer: P.hana.email, start: '2026-03-17T10:00:00Z', duration_minutes: 30, time_zone: 'Europe/London', attendees: [{ email: P.me.email, response: 'needs_action' }, P.samira.email] },
        { id: 'vendor-demo-0317', title: 'Vendor demo', organizer: P.oliver.email, start: '2026-03-17T13:30:00Z', duration_minutes: 30, time_zone: 'Europe/London', attendees: [{ email: P.me.email, response: 'needs_action' }] },
      ],
      keep_free: [{ people: [P.me.email], start: '2026-03-17T08:30:00Z', end: '2026-03-18T00:00:00Z' }],
    },
    world: {
      schedule: [
        { event: 'invitation_received', afterCalls: 2, params: { id: 'incident-review-0317', title: 'Incident review: billing outage', organizer: P.priya.email, start: '2026-03-17T13:15:00Z', end: '2026-03-17T13:45:00Z', time_zone: 'Europe/London', attendees: [P.me.email, P.marcus.email] } },
      ],
    },
    checks: [
      { check: 'invitation_response', name: 'clashing invitations declined', event_ids: ['mkt-sync-0317', 'incident-review-0317'], response: 'declined' },
      { check: 'invitation_response', name: 'other invitations untouched', event_ids: ['design-crit-0317', 'vendor-demo-0317'], response: 'needs_action' },
      { check: 'chat_dm_sent', name: 'Lucía asked to reschedule', to: 'lucia.f' },
      { check: 'chat_dm_sent', name: 'Priya asked to reschedule', to: 'priya' },
      { check: 'workplace_unchanged', calendar: { may_respond: ['mkt-sync-0317', 'incident-review-0317'] }, chat: { dms: ['lucia.f', 'priya'], max_posts: 2 } },
    ],
    steps: [
      step('list_events', { start: today.start, end: today.end }),
      step('get_event', { event_id: 'ingrid-1on1-20260317' }),
      decline('mkt-sync-0317'),
      step('list_events', { start: today.start, end: today.end }),
      decline('incident-review-0317'),
      step('send_direct_message', { to: '@lucia.f', text: 'Hi Lucía, the marketing sync clashes with my 1:1 with Ingrid today. Could we find another time?' }),
      step('send_direct_message', { to: '@priya', text: 'Hi Priya, the incident review overlaps my 1:1 with Ingrid. Could we find another time?' }),
      step('submit', {}),
    ],
    stale: [step('list_events', { start: today.start, end: today.end }), step('get_event', { event_id: 'ingrid-1on1-20260317' }), decline('mkt-sync-0317'), step('send_direct_message', { to: '@lucia.f', text: 'The marketing sync clashes with my 1:1; another time?' }), step('submit', {})],
    family: { name: 'world-updates', params: { variant: 'invitation-received' } },
  });
}

export function budgetLeftTask(): Task {
  const spend = [
    { vendor: 'Kelpie Analytics panel', amount: 2800, date: '2026-01-20' },
    { vendor: 'Recruiting incentives', amount: 1350, date: '2026-02-04' },
    { vendor: 'Saltmarsh Studio diary study', amount: 2000, date: '2026-02-26' },
  ];
  const budget = 12000;
  const invoice = 2400;
  const credit = 600;
  const left = budget - spend.reduce((s, r) => s + r.amount, 0) - invoice + credit;
  const staleLeft = left - credit;
  const fmt = (n: number) => n.toLocaleString('en-GB');
  const head = [
    step('read_channel', { channel: '#design' }),
    step('notes_search', { query: 'design research' }),
    step('get_page', { page_id: 'research-budget' }),
    step('query_database', { database_id: 'db-research-spend' }),
    step('search_messages', { query: 'Saltmarsh' }),
    step('read_message', { messageId: 'msg_9601' }),
  ];
  return workplaceTask({
    slug: 'design-research-budget-left',
    instruction:
      "Hana asked in #design how much of the Q1 design research budget is left. Work it out from the budget page and the spend table in Notes plus anything invoiced by mail that isn't logged yet (credit notes count too), and answer in her thread.",
    difficulty: 'medium',
    labels: ['cross-app', 'chat', 'notes', 'mail', 'arithmetic', 'world-event'],
    chat: { messages: [{ id: 'cm_6701', channel: 'design', author: 'hana.k', text: '@robin how much of the Q1 design research budget do we have left? Want to book one more usability round.', minutesAgo: 90 }] },
    notes: {
      pages: [{ id: 'research-budget', parent: 'projects', title: 'Design research budget Q1', author: 'u-hana', age_days: 60, blocks: [`Q1 budget for design research: £${fmt(budget)}.`, 'Log every invoice in the Design research spend table.'] }],
      databases: [
        {
          id: 'db-research-spend',
          parent: 'projects',
          title: 'Design research spend',
          author: 'u-hana',
          schema: { Amount: { type: 'number' }, Date: { type: 'date' } },
          rows: spend.map((s, i) => ({ id: `spend-${i + 1}`, title: s.vendor, author: 'u-hana', values: { Amount: s.amount, Date: s.date } })),
        },
      ],
    },
    mail: {
      messages: [{ id: 'msg_9601', from: 'accounts@saltmarsh.example', fromName: 'Saltmarsh Studio', subject: 'Invoice SS-118', hoursAgo: 30, body: `Dear Robin,\n\nPlease find our invoice SS-118 for the March usability study.\n\nAmount due: £${fmt(invoice)}.\n\nSaltmarsh Studio` }],
    },
    world: {
      schedule: [
        { event: 'new_mail_arrives', afterCalls: 3, params: { id: 'msg_9602', from: 'accounts@saltmarsh.example', fromName: 'Saltmarsh Studio', subject: 'Credit note CN-12 against invoice SS-118', body: `Dear Robin,\n\nOne of the March sessions was cancelled, so we are issuing credit note CN-12 for £${fmt(credit)} against invoice SS-118.\n\nSaltmarsh Studio` } },
      ],
    },
    checks: [
      { check: 'chat_thread_reply', name: 'amount left', thread_of: 'cm_6701', contains: [`${fmt(left)}|${left}`], excludes: [`${fmt(staleLeft)}|${staleLeft}`] },
      { check: 'workplace_unchanged', chat: { threads: ['cm_6701'], max_posts: 1 } },
    ],
    steps: [...head, step('search_messages', { query: 'Saltmarsh' }), step('read_message', { messageId: 'msg_9602' }), step('reply_in_thread', { message_id: 'cm_6701', text: `£${fmt(left)} left: £${fmt(budget)} budget minus £${fmt(budget - left)} spent or invoiced (net of the £${fmt(credit)} credit note).` }), step('submit', {})],
    stale: [...head, step('reply_in_thread', { message_id: 'cm_6701', text: `£${fmt(staleLeft)} left of the £${fmt(budget)} budget.` }), step('submit', {})],
    family: { name: 'world-updates', params: { variant: 'credit-note' } },
  });
}
