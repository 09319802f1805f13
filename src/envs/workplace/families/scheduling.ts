import type { Task } from '../../../core/index.ts';
import { P, type Colleague } from '../people.ts';
import { london, planSlots, step, workplaceTask } from './common.ts';

// Scheduling driven by facts in other apps: candidate availability in a mail, the interview panel
// on a notes page; contract renewals in a notes database. Every meeting is checked against the
// real calendars (working hours in each person's zone, no conflicts), not against one fixed slot.

const win = (day: string, from: string, to: string) => ({ start: `2026-03-${day}T${from}:00Z`, end: `2026-03-${day}T${to}:00Z` });

interface Candidate {
  name: string;
  email: string;
  window: { start: string; end: string };
  text: string;
}

const CANDIDATES: Candidate[] = [
  { name: 'Abel Ashdown', email: 'abel.ashdown@mailbox.example', window: win('18', '10:00', '12:00'), text: 'Wednesday 18 March, 10:00–12:00' },
  { name: 'Freya Bellweather', email: 'freya.b@inboxly.example', window: win('19', '10:00', '12:00'), text: 'Thursday 19 March, 10:00–12:00' },
  { name: 'Gideon Coulter', email: 'gideon.coulter@mailbox.example', window: win('19', '13:00', '15:00'), text: 'Thursday 19 March, 13:00–15:00' },
  { name: 'Ilse Drummond', email: 'ilse.drummond@inboxly.example', window: win('20', '10:00', '12:00'), text: 'Friday 20 March, 10:00–12:00' },
  { name: 'Jun Everly', email: 'jun.everly@mailbox.example', window: win('20', '13:00', '15:00'), text: 'Friday 20 March, 13:00–15:00' },
];

export function interviewsTask(): Task {
  const panel = [P.ingrid, P.priya];
  const keepFree = CANDIDATES.map((c) => ({ people: [P.me.email, ...panel.map((p) => p.email)], start: c.window.start, end: c.window.end }));
  const calendar = { keep_free: keepFree };
  const slots = planSlots(calendar, CANDIDATES.map((c) => ({ people: panel.map((p) => p.email), durationMinutes: 45, windows: [c.window] })));
  return workplaceTask({
    slug: 'schedule-final-interviews',
    instruction:
      "Aisha emailed me the availability of the Senior PM finalists. Schedule each finalist's final interview inside the window they gave, with the panel listed in our hiring plan in Notes, at a time the whole panel is free and within everyone's working hours (length as the plan says). Email each candidate their interview time, then send Aisha a chat DM once all five are booked.",
    difficulty: 'hard',
    labels: ['cross-app', 'mail', 'notes', 'calendar', 'chat', 'scheduling', 'external-guests', 'long-horizon'],
    mail: {
      messages: [
        {
          id: 'msg_9401',
          from: P.aisha.email,
          fromName: P.aisha.name,
          subject: 'Senior PM finalists — availability',
          hoursAgo: 20,
          body: [
            'Hi Robin,',
            '',
            'Here are the five finalists and when they can do the final interview (London time):',
            ...CANDIDATES.map((c) => `- ${c.name} <${c.email}>: ${c.text}`),
            '',
            'Please use their personal emails for the invites. Thanks!',
            'Aisha',
          ].join('\n'),
        },
        { id: 'msg_9402', from: P.aisha.email, fromName: P.aisha.name, subject: 'Designer finalists — FYI only', hoursAgo: 40, body: 'Hana is running the design loop; nothing needed from you. Candidates: Mireille Jessop, Cosmo Inchbald.' },
      ],
    },
    notes: {
      pages: [
        {
          id: 'pm-hiring-plan',
          parent: 'projects',
          title: 'Senior PM hiring plan',
          author: 'u-aisha',
          age_days: 12,
          blocks: [
            '# Loop',
            '- Recruiter screen (Aisha)',
            '- Take-home case study',
            '- Final interview: 45 minutes. Panel: Robin Okafor (hiring manager), Ingrid Solberg (product sense) and Priya Raman (technical depth).',
            '# Changes',
            '- Until February the panel also had Hana Kobayashi; she has moved to the design loop.',
          ],
        },
      ],
    },
    calendar,
    checks: [
      ...CANDIDATES.map((c) => ({ check: 'event_exists', name: `final interview for ${c.name}`, attendees: [c.email, ...panel.map((p) => p.email)], exact_attendees: true, duration_minutes: 45, after: c.window.start, before: c.window.end, within_working_hours: true, no_conflicts: true })),
      ...CANDIDATES.map((c) => ({ check: 'message_sent', name: `time to ${c.name}`, to: [c.email], bodyContains: ['interview'] })),
      { check: 'chat_dm_sent', name: 'Aisha told', to: 'aisha', contains: ['booked|scheduled|done'] },
      { check: 'workplace_unchanged', mail: { allowed: CANDIDATES.map((c) => c.email), max: CANDIDATES.length }, calendar: { may_create: CANDIDATES.length }, chat: { dms: ['aisha'], max_posts: 1 } },
    ],
    steps: [
      step('search_messages', { query: 'finalists' }),
      step('read_message', { messageId: 'msg_9401' }),
      step('notes_search', { query: 'hiring plan' }),
      step('get_page', { page_id: 'pm-hiring-plan' }),
      ...CANDIDATES.flatMap((c, i) => [
        step('find_free_slots', { attendees: panel.map((p) => p.email), duration_minutes: 45, window_start: c.window.start, window_end: c.window.end }),
        step('create_event', { title: `Final interview: ${c.name}`, start: london(slots[i]!), duration_minutes: 45, attendees: [c.email, ...panel.map((p) => p.email)] }),
        step('send_message', { to: [c.email], subject: 'Your final interview at Larkspur', body: `Dear ${c.name.split(' ')[0]!},\n\nYour final interview is booked for ${london(slots[i]!)} (London time), 45 minutes, with Robin Okafor, Ingrid Solberg and Priya Raman. The invite is on its way.\n\nBest,\nRobin` }),
      ]),
      step('send_direct_message', { to: '@aisha', text: 'All five PM final interviews are booked and the candidates have their times.' }),
      step('submit', {}),
    ],
    family: { name: 'schedule-from-facts', params: { variant: 'interviews', meetings: CANDIDATES.length } },
  });
}

interface Contract {
  vendor: string;
  key: string;
  owner: Colleague;
  renewal: string;
  contact: string;
  status: 'Active' | 'Cancelled';
}

const CONTRACTS: Contract[] = [
  { vendor: 'Tern Cloud', key: 'Tern', owner: P.kofi, renewal: '2026-03-27', contact: 'accounts@terncloud.example', status: 'Active' },
  { vendor: 'Copperbeam CDN', key: 'Copperbeam', owner: P.kofi, renewal: '2026-09-01', contact: 'billing@copperbeam.example', status: 'Active' },
  { vendor: 'Kelpie Analytics', key: 'Kelpie', owner: P.devika, renewal: '2026-04-02', contact: 'renewals@kelpie-analytics.example', status: 'Active' },
  { vendor: 'Quayside Coffee', key: 'Quayside', owner: P.oliver, renewal: '2026-03-30', contact: 'orders@quaysidecoffee.example', status: 'Cancelled' },
  { vendor: 'Orchard Print Co', key: 'Orchard', owner: P.oliver, renewal: '2026-04-06', contact: 'sales@orchardprint.example', status: 'Active' },
  { vendor: 'Lumen HR', key: 'Lumen', owner: P.aisha, renewal: '2026-06-01', contact: 'success@lumenhr.example', status: 'Active' },
  { vendor: 'Marrow & Pike Legal', key: 'Marrow', owner: P.nadia, renewal: '2026-04-10', contact: 'billing@marrowpike.example', status: 'Active' },
  { vendor: 'Saltmarsh Studio', key: 'Saltmarsh', owner: P.samira, renewal: '2026-04-13', contact: 'studio@saltmarsh.example', status: 'Active' },
  { vendor: 'Fjordline Translation', key: 'Fjordline', owner: P.lucia, renewal: '2026-05-12', contact: 'hello@fjordline.example', status: 'Active' },
  { vendor: 'Brightwater Logistics', key: 'Brightwater', owner: P.elena, renewal: '2026-04-15', contact: 'contracts@brightwater.example', status: 'Active' },
  { vendor: 'Greenfield Cleaning', key: 'Greenfield', owner: P.oliver, renewal: '2026-04-17', contact: 'office@greenfieldcleaning.example', status: 'Active' },
  { vendor: 'Pebblestone Security', key: 'Pebblestone', owner: P.samW, renewal: '2026-04-20', contact: 'renewals@pebblestone.example', status: 'Active' },
  { vendor: 'Harrow Insurance', key: 'Harrow', owner: P.elena, renewal: '2026-07-15', contact: 'broker@harrowinsurance.example', status: 'Active' },
  { vendor: 'Inkwell Design Tools', key: 'Inkwell', owner: P.hana, renewal: '2026-08-01', contact: 'teams@inkwell.example', status: 'Active' },
  { vendor: 'Northstar Payroll', key: 'Northstar', owner: P.ana, renewal: '2026-05-01', contact: 'support@northstarpayroll.example', status: 'Active' },
];

const DEADLINE = '2026-04-16';

export function renewalsTask(): Task {
  const db = 'db-contracts';
  const due = CONTRACTS.filter((c) => c.status === 'Active' && c.renewal <= DEADLINE);
  const windows = [win('18', '10:00', '12:00'), win('19', '10:00', '12:00'), win('20', '10:00', '12:00')];
  const calendar = { keep_free: windows };
  const slots = planSlots(calendar, due.map((c) => ({ people: [c.owner.email], durationMinutes: 30, windows })));
  return workplaceTask({
    slug: 'contract-renewal-reviews',
    instruction:
      "Go through the Vendor contracts table in Notes. For every active contract that renews in the next 30 days (on or before 16 April), book a 30-minute renewal review with the contract's owner, titled with the vendor's name, on Wednesday, Thursday or Friday this week when we're both free and inside both our working hours, and email the vendor contact asking them to send their renewal terms. When that's done, DM Elena the list of vendors up for renewal.",
    difficulty: 'hard',
    labels: ['cross-app', 'notes', 'database', 'calendar', 'mail', 'chat', 'filtering', 'long-horizon'],
    notes: {
      databases: [
        {
          id: db,
          parent: 'projects',
          title: 'Vendor contracts',
          author: 'u-elena',
          schema: { Owner: { type: 'person' }, 'Renewal date': { type: 'date' }, 'Vendor contact': { type: 'text' }, Status: { type: 'select', options: ['Active', 'Cancelled'] } },
          rows: CONTRACTS.map((c, i) => ({ id: `contract-${i + 1}`, title: c.vendor, author: 'u-elena', values: { Owner: c.owner.email, 'Renewal date': c.renewal, 'Vendor contact': c.contact, Status: c.status } })),
        },
      ],
    },
    calendar,
    checks: [
      ...due.map((c) => ({ check: 'event_exists', name: `renewal review: ${c.vendor}`, attendees: [c.owner.email], title_contains: [c.key], exact_attendees: true, duration_minutes: 30, after: windows[0]!.start, before: '2026-03-21T00:00:00Z', within_working_hours: true, no_conflicts: true })),
      ...due.map((c) => ({ check: 'message_sent', name: `terms asked of ${c.vendor}`, to: [c.contact], bodyContains: ['renewal|renew'] })),
      { check: 'chat_dm_sent', name: 'list for Elena', to: 'elena.v', contains: due.map((c) => c.key), excludes: ['Greenfield', 'Pebblestone', 'Quayside'] },
      { check: 'workplace_unchanged', mail: { allowed: due.map((c) => c.contact), max: due.length }, calendar: { may_create: due.length }, chat: { dms: ['elena.v'], max_posts: 1 } },
    ],
    steps: [
      step('notes_search', { query: 'Vendor contracts', kind: 'database' }),
      step('query_database', { database_id: db, limit: 25 }),
      ...due.flatMap((c, i) => [
        step('find_free_slots', { attendees: [c.owner.email], duration_minutes: 30, window_start: windows[0]!.start, window_end: '2026-03-21T00:00:00Z' }),
        step('create_event', { title: `Renewal review: ${c.vendor}`, start: london(slots[i]!), duration_minutes: 30, attendees: [c.owner.email] }),
        step('send_message', { to: [c.contact], subject: `${c.vendor} contract renewal`, body: `Hello,\n\nOur contract with ${c.vendor} renews on ${c.renewal}. Could you send us your renewal terms before then?\n\nThanks,\nRobin Okafor\nLarkspur` }),
      ]),
      step('send_direct_message', { to: '@elena.v', text: `Up for renewal by 16 April: ${due.map((c) => `${c.vendor} (${c.renewal})`).join(', ')}. Reviews are booked with each owner.` }),
      step('submit', {}),
    ],
    family: { name: 'schedule-from-facts', params: { variant: 'renewals', meetings: due.length } },
  });
}
