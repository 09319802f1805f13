import type { JsonObject, Task, ToolInvocation } from '../../../core/index.ts';
import type { ChatMessageFixtureInput } from '../chat-schema.ts';
import { P, type Colleague } from '../people.ts';
import { london, planSlots, step, workplaceTask } from './common.ts';

// Meeting notes leave open action items; for each one owned by someone else, book a follow-up
// in both people's free working time, tell the owner, and report back. Long by nature: three
// calls per item across notes, calendar and mail or chat.

interface Item {
  owner: Colleague;
  /** How the notes name the owner ("Sam W.", "@tomas", "Elena"). */
  label: string;
  text: string;
  /** A word of the item that any sensible title or message keeps. */
  key: string;
}

const WEEK = { from: '2026-03-18T00:00:00Z', to: '2026-03-21T00:00:00Z' };

const win = (day: string, from: string, to: string) => ({ start: `2026-03-${day}T${from}:00Z`, end: `2026-03-${day}T${to}:00Z` });

interface Variant {
  slug: string;
  pageId: string;
  pageTitle: string;
  channel: string;
  items: Item[];
  windows: { start: string; end: string }[];
}

const ATLAS: Variant = {
  slug: 'atlas',
  pageId: 'atlas-review-0316',
  pageTitle: 'Atlas launch review 2026-03-16',
  channel: 'atlas-launch',
  items: [
    { owner: P.priya, label: 'Priya', text: 'Write up the release branch freeze plan', key: 'freeze' },
    { owner: P.marcus, label: 'Marcus', text: 'Finish the checkout API load test', key: 'load' },
    { owner: P.samW, label: 'Sam W.', text: 'Close out the pentest findings', key: 'pentest' },
    { owner: P.elena, label: 'Elena', text: 'Confirm the launch budget with finance', key: 'budget' },
    { owner: P.nadia, label: 'Nadia', text: 'Review the updated terms of service', key: 'terms' },
    { owner: P.oliver, label: 'Oliver', text: 'Book the launch-day war room', key: 'war room' },
    { owner: P.kofi, label: 'Kofi', text: 'Set up the launch monitoring dashboard', key: 'monitoring' },
    { owner: P.ana, label: 'Ana F.', text: 'Raise the purchase order for the ad campaign', key: 'purchase order' },
  ],
  windows: [win('18', '10:00', '12:00'), win('19', '10:00', '12:00'), win('20', '10:00', '12:00'), win('19', '13:00', '15:00'), win('20', '13:00', '15:00')],
};

const BILLING: Variant = {
  slug: 'billing',
  pageId: 'billing-kickoff-0316',
  pageTitle: 'Billing v2 kickoff 2026-03-16',
  channel: 'billing-v2',
  items: [
    { owner: P.devika, label: '@devika', text: 'Backfill historic invoices into the warehouse', key: 'backfill' },
    { owner: P.tomas, label: '@tomas', text: 'Prototype the proration logic', key: 'proration' },
    { owner: P.lucia, label: '@lucia.f', text: 'Draft the pricing change announcement', key: 'announcement' },
    { owner: P.jonah, label: '@jonah', text: 'Update the billing support macros', key: 'macros' },
    { owner: P.elena, label: '@elena.v', text: 'Sign off the revenue recognition approach', key: 'revenue recognition' },
    { owner: P.samira, label: '@samira', text: 'Design the new invoice email', key: 'invoice email' },
    { owner: P.kofi, label: '@kofi', text: 'Provision the billing sandbox', key: 'sandbox' },
  ],
  windows: [win('18', '10:00', '12:00'), win('18', '15:00', '17:00'), win('19', '10:00', '12:00'), win('20', '10:00', '12:00'), win('20', '15:00', '17:00')],
};

function calendarFixtures(v: Variant): JsonObject {
  return { keep_free: v.windows.map((w) => ({ start: w.start, end: w.end })) };
}

function notesFixtures(v: Variant, distractor: { id: string; title: string; lines: string[] }): JsonObject {
  const attendees = ['Robin Okafor', 'Ingrid Solberg', ...v.items.map((i) => i.owner.name)];
  return {
    pages: [
      {
        id: v.pageId,
        parent: 'meetings',
        title: v.pageTitle,
        author: 'u-ingrid',
        age_days: 1,
        blocks: [
          `Attendees: ${[...new Set(attendees)].join(', ')}`,
          '# Notes',
          '- Launch scope is frozen; anything new goes to the next release.',
          '- Risks reviewed: vendor lead times, support load in week one.',
          '# Action items',
          '[x] Ingrid: Circulate the agenda',
          ...v.items.slice(0, 4).map((i) => `[ ] ${i.label}: ${i.text}`),
          '[ ] Robin: Update the launch FAQ',
          ...v.items.slice(4).map((i) => `[ ] ${i.label}: ${i.text}`),
        ],
      },
      { id: distractor.id, parent: 'meetings', title: distractor.title, author: 'u-ingrid', age_days: 8, blocks: ['Attendees: Robin Okafor, Ingrid Solberg, Hana Kobayashi, Lucía Ferreira, Tomás Ibarra', '# Action items', ...distractor.lines] },
    ],
  };
}

function followUpSteps(v: Variant, slots: number[], tell: (item: Item, start: number) => ToolInvocation): ToolInvocation[] {
  return v.items.flatMap((item, i) => [
    step('find_free_slots', { attendees: [item.owner.email], duration_minutes: 30, window_start: WEEK.from, window_end: WEEK.to }),
    step('create_event', { title: `Follow-up: ${item.text}`, start: london(slots[i]!), duration_minutes: 30, attendees: [item.owner.email] }),
    tell(item, slots[i]!),
  ]);
}

function eventCheck(item: Item, options: { titled?: boolean; exclude?: string[] } = {}): JsonObject {
  return {
    check: 'event_exists',
    name: `follow-up with ${item.owner.name}${options.titled ? ` on ${item.key}` : ''}`,
    attendees: [item.owner.email],
    exact_attendees: true,
    duration_minutes: 30,
    after: WEEK.from,
    before: WEEK.to,
    within_working_hours: true,
    no_conflicts: true,
    ...(options.titled ? { title_contains: [item.key] } : {}),
    ...(options.exclude ? { attendees_exclude: options.exclude } : {}),
  };
}

const when = (start: number) => new Date(start).toISOString().slice(0, 16).replace('T', ' ');

function atlasChat(extra: ChatMessageFixtureInput[] = []): JsonObject {
  return {
    channels: [{ name: 'atlas-launch', topic: 'Atlas launch: decisions and owners', members: ['ingrid', 'priya', 'marcus.l', 'sam.w', 'elena.v', 'nadia', 'oliver.b', 'kofi', 'ana.f', 'lucia.f'] }],
    messages: [
      { id: 'cm_4102', channel: 'atlas-launch', author: 'ingrid', text: 'Thanks all for yesterday. @robin could you run the follow-ups from the review notes and post a summary of who owns what here?', minutesAgo: 900 },
      { id: 'cm_4117', channel: 'atlas-launch', author: 'marcus.l', text: 'Load test environment is ready, will share numbers once I have them.', minutesAgo: 700 },
      { id: 'cm_4123', channel: 'atlas-launch', author: 'lucia.f', text: 'Reminder that the launch FAQ draft lives in the Atlas folder.', minutesAgo: 300 },
      ...extra,
    ],
  } as unknown as JsonObject;
}

const ATLAS_DISTRACTOR = { id: 'atlas-review-0309', title: 'Atlas launch review 2026-03-09', lines: ['[ ] Hana: Finalise the launch illustrations', '[ ] Lucía: Draft the press release', '[x] Tomás: Fix the coupon rounding bug'] };

function atlasTask(): Task {
  const v = ATLAS;
  const slots = planSlots(calendarFixtures(v), v.items.map((i) => ({ people: [i.owner.email], durationMinutes: 30, windows: v.windows })));
  const emails = v.items.map((i) => i.owner.email);
  return workplaceTask({
    slug: 'atlas-review-followups',
    instruction:
      "Yesterday's Atlas launch review left open action items in the meeting notes. For every open item that isn't mine, book a 30-minute follow-up with its owner on Wednesday, Thursday or Friday this week, at a time when we're both free and inside both our working hours, and email each owner individually about their item. Then post a short summary in #atlas-launch of who owns what.",
    difficulty: 'hard',
    labels: ['cross-app', 'notes', 'calendar', 'mail', 'chat', 'scheduling', 'long-horizon', 'ambiguous-names'],
    notes: notesFixtures(v, ATLAS_DISTRACTOR),
    calendar: calendarFixtures(v),
    chat: atlasChat() as never,
    checks: [
      ...v.items.map((i) => eventCheck(i)),
      ...v.items.map((i) => ({ check: 'message_sent', name: `mail to ${i.owner.name}`, to: [i.owner.email], bodyContains: [i.key] })),
      { check: 'chat_message_posted', name: 'summary in #atlas-launch', channel: '#atlas-launch', contains: v.items.map((i) => i.owner.name.split(' ')[0]!) },
      { check: 'workplace_unchanged', mail: { allowed: emails, max: v.items.length }, calendar: { may_create: v.items.length }, chat: { channels: ['#atlas-launch'], max_posts: 1 } },
    ],
    steps: [
      step('notes_search', { query: 'Atlas launch review' }),
      step('get_page', { page_id: v.pageId }),
      step('list_people', {}),
      ...followUpSteps(v, slots, (item, start) => step('send_message', { to: [item.owner.email], subject: `Follow-up: ${item.text}`, body: `Hi ${item.owner.name.split(' ')[0]!},\n\nFrom yesterday's Atlas launch review you own: ${item.text}. I've booked 30 minutes on ${when(start)} UTC to check in.\n\nRobin` })),
      step('read_channel', { channel: '#atlas-launch' }),
      step('post_message', { channel: '#atlas-launch', text: `Follow-ups from the review are booked. Owners: ${v.items.map((i) => `${i.owner.name} (${i.text})`).join('; ')}.` }),
      step('submit', {}),
    ],
    family: { name: 'meeting-followups', params: { variant: 'atlas-mail', items: v.items.length } },
  });
}

/** Same review, but Kofi goes off sick mid-episode and Priya takes over his item. */
function atlasHandoverTask(): Task {
  const v = ATLAS;
  const handover = v.items.find((i) => i.owner.id === 'u-kofi')!;
  const items = v.items.map((i) => (i === handover ? { ...i, owner: P.priya } : i));
  const ordered = [...items.filter((i) => i.key !== handover.key), items.find((i) => i.key === handover.key)!];
  const slots = planSlots(calendarFixtures(v), ordered.map((i) => ({ people: [i.owner.email], durationMinutes: 30, windows: v.windows })));
  const emails = [...new Set(items.map((i) => i.owner.email))];
  const titleFor = (i: Item) => `Follow-up: ${i.text}`;
  const plan = (list: Item[], offset = 0) =>
    list.flatMap((item, n) => [
      step('create_event', { title: titleFor(item), start: london(slots[offset + n]!), duration_minutes: 30, attendees: [item.owner.email] }),
      step('send_message', { to: [item.owner.email], subject: titleFor(item), body: `Hi ${item.owner.name.split(' ')[0]!},\n\nYou own "${item.text}" from yesterday's Atlas review; I've booked a 30-minute follow-up on ${when(slots[offset + n]!)} UTC.\n\nRobin` }),
    ]);
  const head = [step('notes_search', { query: 'Atlas launch review' }), step('get_page', { page_id: v.pageId }), step('list_people', {}), step('read_channel', { channel: '#atlas-launch' })];
  const tail = (list: Item[]) => [step('post_message', { channel: '#atlas-launch', text: `Follow-ups booked. Owners: ${list.map((i) => `${i.owner.name} (${i.text})`).join('; ')}.` }), step('submit', {})];
  const staleOrder = [...v.items.filter((i) => i.key !== handover.key), handover];
  return workplaceTask({
    slug: 'atlas-review-followups-handover',
    instruction:
      "Run the follow-ups from yesterday's Atlas launch review: for every open action item in the notes that isn't mine, book a 30-minute meeting titled \"Follow-up: \" plus the item, with whoever owns it, on Wednesday–Friday this week when we're both free and within both our working hours, and email that person about it. Then post a summary of the owners in #atlas-launch. Keep an eye on #atlas-launch: ownership sometimes changes.",
    difficulty: 'hard',
    labels: ['cross-app', 'notes', 'calendar', 'mail', 'chat', 'scheduling', 'long-horizon', 'world-event'],
    notes: notesFixtures(v, ATLAS_DISTRACTOR),
    calendar: calendarFixtures(v),
    chat: atlasChat() as never,
    world: {
      schedule: [
        {
          event: 'chat_message_posted',
          afterCalls: 5,
          params: { id: 'cm_4188', channel: 'atlas-launch', author: 'priya', text: `Heads-up: Kofi is off sick until next week, so I'm taking over his item (${handover.text}). Please send anything about it to me instead.` },
        },
      ],
    },
    checks: [
      ...items.map((i) => eventCheck(i, { titled: true, ...(i.key === handover.key ? { exclude: [P.kofi.email] } : {}) })),
      ...items.map((i) => ({ check: 'message_sent', name: `mail to ${i.owner.name} on ${i.key}`, to: [i.owner.email], bodyContains: [i.key] })),
      { check: 'chat_message_posted', name: 'summary in #atlas-launch', channel: '#atlas-launch', contains: [...new Set(items.map((i) => i.owner.name.split(' ')[0]!))], excludes: ['Kofi'] },
      { check: 'workplace_unchanged', mail: { allowed: emails, max: items.length }, calendar: { may_create: items.length }, chat: { channels: ['#atlas-launch'], max_posts: 1 } },
    ],
    steps: [...head, ...plan(ordered.slice(0, -1)), step('read_channel', { channel: '#atlas-launch' }), ...plan(ordered.slice(-1), ordered.length - 1), ...tail(items)],
    stale: [...head, ...plan(staleOrder), ...tail(v.items)],
    family: { name: 'meeting-followups', params: { variant: 'atlas-handover', items: items.length } },
  });
}

function billingTask(): Task {
  const v = BILLING;
  const slots = planSlots(calendarFixtures(v), v.items.map((i) => ({ people: [i.owner.email], durationMinutes: 30, windows: v.windows })));
  const handles = v.items.map((i) => i.owner.handle);
  return workplaceTask({
    slug: 'billing-kickoff-followups',
    instruction:
      'Go through the open action items from yesterday\'s Billing v2 kickoff notes. For each one not assigned to me, set up a 30-minute follow-up with the owner between Wednesday and Friday this week (both of us free, inside both our working hours) and send them a chat DM with their item and when the follow-up is. Finally, email Ingrid one summary listing every item and its owner.',
    difficulty: 'hard',
    labels: ['cross-app', 'notes', 'calendar', 'chat', 'mail', 'scheduling', 'long-horizon', 'time-zones'],
    notes: notesFixtures(v, { id: 'billing-prekickoff-0309', title: 'Billing v2 pre-kickoff 2026-03-09', lines: ['[ ] @hana.k: Sketch the invoice layout', '[ ] @lucia.f: Collect competitor pricing pages', '[x] @tomas: Estimate the migration'] }),
    calendar: calendarFixtures(v),
    chat: {
      channels: [{ name: 'billing-v2', topic: 'Billing v2 project', members: ['ingrid', ...handles] }],
      messages: [{ id: 'cm_5210', channel: 'billing-v2', author: 'ingrid', text: 'Kickoff notes are in the workspace. Robin will chase the action items.', minutesAgo: 960 }],
    },
    checks: [
      ...v.items.map((i) => eventCheck(i)),
      ...v.items.map((i) => ({ check: 'chat_dm_sent', name: `DM to @${i.owner.handle}`, to: i.owner.handle, contains: [i.key] })),
      { check: 'message_sent', name: 'summary to Ingrid', to: [P.ingrid.email], bodyContains: v.items.map((i) => i.owner.name.split(' ')[0]!) },
      { check: 'workplace_unchanged', mail: { allowed: [P.ingrid.email], max: 1 }, calendar: { may_create: v.items.length }, chat: { dms: handles, max_posts: v.items.length } },
    ],
    steps: [
      step('notes_search', { query: 'Billing v2 kickoff' }),
      step('get_page', { page_id: v.pageId }),
      step('list_chat_users', {}),
      ...followUpSteps(v, slots, (item, start) => step('send_direct_message', { to: `@${item.owner.handle}`, text: `Hi ${item.owner.name.split(' ')[0]!}, from the Billing v2 kickoff you own: ${item.text}. I booked a 30-minute follow-up for ${when(start)} UTC.` })),
      step('send_message', { to: [P.ingrid.email], subject: 'Billing v2 kickoff: action items and owners', body: v.items.map((i) => `- ${i.text}: ${i.owner.name}`).join('\n') }),
      step('submit', {}),
    ],
    family: { name: 'meeting-followups', params: { variant: 'billing-dm', items: v.items.length } },
  });
}

export function followupTasks(): Task[] {
  return [atlasTask(), atlasHandoverTask(), billingTask()];
}

