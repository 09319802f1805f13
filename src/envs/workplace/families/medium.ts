import type { Task } from '../../../core/index.ts';
import type { ChatMessageFixtureInput } from '../chat-schema.ts';
import { P, type Colleague } from '../people.ts';
import { step, workplaceTask } from './common.ts';

// Ten-to-twenty-call tasks: a paginated standup channel, feature requests spread over mail and
// chat, and partner intros with each partner's manager on copy.

const ENGINEERS = [P.priya, P.marcus, P.tomas, P.chen, P.kofi, P.samW];
const DAYS = [
  { label: 'Fri', at: '2026-03-13' },
  { label: 'Mon', at: '2026-03-16' },
  { label: 'Tue', at: '2026-03-17' },
];
const BLOCKERS: Record<string, { who: Colleague; what: string; key: string }> = {
  'Fri:u-tomas': { who: P.tomas, what: 'waiting on the staging database credentials', key: 'credentials' },
  'Mon:u-priya': { who: P.priya, what: 'need Legal to approve the data processing addendum', key: 'addendum' },
  'Mon:u-chen': { who: P.chen, what: 'App Store review rejected the build; waiting on Apple', key: 'App Store' },
  'Mon:u-kofi': { who: P.kofi, what: 'the new CI runners have no access to the package registry', key: 'registry' },
  'Tue:u-marcus': { who: P.marcus, what: 'load test cluster quota exhausted, need Ops to raise it', key: 'quota' },
  'Tue:u-sam-w': { who: P.samW, what: 'pentest vendor has not sent the final report', key: 'pentest' },
  'Tue:u-tomas': { who: P.tomas, what: 'proration spec still has open questions from Finance', key: 'proration' },
};

export function standupBlockersTask(): Task {
  const messages: ChatMessageFixtureInput[] = [];
  const tracked: { id: string; who: Colleague; key: string }[] = [];
  const old: string[] = [];
  let n = 0;
  for (const [d, day] of DAYS.entries()) {
    messages.push({ id: `cm_61${String(n++).padStart(2, '0')}`, channel: 'eng-standup', author: 'priya', text: `Standup thread for ${day.label}: post yesterday / today / blocked.`, at: `${day.at}T07:${d === 2 ? '00' : '45'}:00Z` });
    ENGINEERS.forEach((e, i) => {
      const blocker = BLOCKERS[`${day.label}:${e.id}`];
      const id = `cm_61${String(n++).padStart(2, '0')}`;
      messages.push({ id, channel: 'eng-standup', author: e.handle, text: `Yesterday: reviews and ${['tests', 'docs', 'a bug fix', 'pairing', 'a spike', 'triage'][i]!}. Today: more of the same. Blocked: ${blocker ? blocker.what : 'none'}.`, at: `${day.at}T0${d === 2 ? 7 : 8}:${String(10 + i * 7).padStart(2, '0')}:00Z` });
      if (blocker && day.label === 'Fri') old.push(id);
      else if (blocker) tracked.push({ id, who: blocker.who, key: blocker.key });
    });
    messages.push({ id: `cm_61${String(n++).padStart(2, '0')}`, channel: 'eng-standup', author: 'kofi', text: 'Reminder: the blocked line only counts if you actually need help from someone.', at: `${day.at}T08:5${d}:00Z` });
  }
  return workplaceTask({
    slug: 'standup-blockers-to-notes',
    instruction:
      'Go through the async standups in #eng-standup posted since Monday. For every post that reports a real blocker, add an unchecked to-do to the "Engineering blockers" page in Notes saying who is blocked and on what, and react with :eyes: to that post so people know it\'s tracked. Ignore posts with no blocker and anything from before Monday.',
    difficulty: 'medium',
    labels: ['cross-app', 'chat', 'notes', 'pagination', 'todos', 'reactions'],
    chat: { channels: [{ name: 'eng-standup', topic: 'Async standups, one post per person per day', members: ENGINEERS.map((e) => e.handle) }], messages },
    notes: { pages: [{ id: 'eng-blockers', parent: 'projects', title: 'Engineering blockers', author: 'u-priya', age_days: 6, blocks: ['Open blockers the team needs help with. Tick them off when resolved.', '[x] Kofi: flaky DNS in staging'] }] },
    checks: [
      { check: 'page_content', name: 'blockers tracked', page_id: 'eng-blockers', todos: tracked.map((t) => ({ contains: [t.who.name.split(' ')[0]!, t.key], checked: false })), excludes: ['staging database credentials'] },
      { check: 'chat_reaction', name: 'eyes on blocked posts', message_ids: tracked.map((t) => t.id), emoji: 'eyes' },
      { check: 'chat_reaction', name: 'old blockers left alone', message_ids: old, present: false },
      { check: 'workplace_unchanged', notes: { may_edit_content: ['eng-blockers'] }, chat: { reactions: tracked.map((t) => t.id) } },
    ],
    steps: [
      step('read_channel', { channel: '#eng-standup' }),
      step('read_channel', { channel: '#eng-standup', cursor: Buffer.from('read_channel:eng-standup|10').toString('base64url') }),
      step('read_channel', { channel: '#eng-standup', cursor: Buffer.from('read_channel:eng-standup|20').toString('base64url') }),
      step('notes_search', { query: 'Engineering blockers' }),
      step('get_page', { page_id: 'eng-blockers' }),
      step('append_blocks', { page_id: 'eng-blockers', blocks: tracked.map((t) => ({ type: 'todo', text: `${t.who.name}: ${BLOCKERS[Object.keys(BLOCKERS).find((k) => BLOCKERS[k]!.key === t.key)!]!.what}` })) }),
      ...tracked.map((t) => step('add_reaction', { message_id: t.id, emoji: 'eyes' })),
      step('submit', {}),
    ],
    family: { name: 'chat-to-notes', params: { posts: messages.length, blockers: tracked.length } },
  });
}

interface Request {
  customer: string;
  feature: string;
  key: string;
  source: 'Email' | 'Chat';
  id: string;
  from: string;
  text: string;
}

const REQUESTS: Request[] = [
  { customer: 'Vantor Labs', feature: 'Audit log export', key: 'audit', source: 'Email', id: 'msg_9501', from: 'cfo@vantorlabs.example', text: 'Our compliance team keeps asking for an export of the audit log. Is that on the roadmap?' },
  { customer: 'Meridian Tile Co', feature: 'Bulk invoice download', key: 'bulk', source: 'Email', id: 'msg_9502', from: 'finance@meridiantile.example', text: 'Downloading invoices one by one takes ages. A bulk download as a zip would save us hours.' },
  { customer: 'Kestrel Biosciences', feature: 'SAML single sign-on', key: 'SAML', source: 'Email', id: 'msg_9503', from: 'ap@kestrelbio.example', text: 'IT will only approve the renewal if we can log in with SAML single sign-on.' },
  { customer: 'Tidewater Outfitters', feature: 'Dark mode', key: 'dark mode', source: 'Chat', id: 'cm_6501', from: 'jonah', text: 'Tidewater Outfitters asked again for a dark mode in the app — third time this quarter.' },
  { customer: 'Hollowbrook Insurance', feature: 'Custom roles', key: 'roles', source: 'Chat', id: 'cm_6502', from: 'sam.c', text: 'Hollowbrook Insurance wants custom roles so their auditors get read-only access. Deal blocker for the upsell.' },
  { customer: 'Gallowgate Studios', feature: 'Slack digest', key: 'digest', source: 'Chat', id: 'cm_6503', from: 'jonah', text: 'Gallowgate Studios would love a daily Slack digest of changes.' },
];

export function featureRequestsTask(): Task {
  const db = 'db-requests';
  return workplaceTask({
    slug: 'log-feature-requests',
    instruction:
      "Ingrid wants this week's customer feature requests in the Feature requests table in Notes before planning. They came in two ways: customers emailed me, and Support and Sales posted some in #support. Add one row per request (title = the feature; Customer; Source = Email or Chat) — skip anything already in the table — then DM Ingrid how many you added.",
    difficulty: 'medium',
    labels: ['cross-app', 'mail', 'chat', 'notes', 'database', 'dedupe'],
    mail: {
      messages: [
        ...REQUESTS.filter((r) => r.source === 'Email').map((r, i) => ({ id: r.id, from: r.from, subject: 'Feature request', hoursAgo: 10 + i * 5, body: `Hi Robin,\n\n${r.text}\n\nBest,\n${r.customer}` })),
        { id: 'msg_9504', from: 'd.moreau@quillon-ca.example', fromName: 'Delphine Moreau', subject: 'Feature request', hoursAgo: 28, body: 'Hi Robin, just checking that our request for webhooks v2 was logged last week? Quillon Freight Canada' },
      ],
    },
    chat: {
      messages: [
        ...REQUESTS.filter((r) => r.source === 'Chat').map((r, i) => ({ id: r.id, channel: 'support', author: r.from, text: r.text, minutesAgo: 600 - i * 90 })),
        { id: 'cm_6504', channel: 'support', author: 'tomas', text: 'FYI the CSV export bug from last week is fixed.', minutesAgo: 100 },
      ],
    },
    notes: {
      databases: [
        {
          id: db,
          parent: 'projects',
          title: 'Feature requests',
          author: 'u-ingrid',
          schema: { Customer: { type: 'text' }, Source: { type: 'select', options: ['Email', 'Chat', 'Call'] } },
          rows: [
            { id: 'fr-1', title: 'Webhooks v2', author: 'u-ingrid', values: { Customer: 'Quillon Freight Canada', Source: 'Email' } },
            { id: 'fr-2', title: 'Mobile widgets', author: 'u-ingrid', values: { Customer: 'Fernhill Academy', Source: 'Call' } },
          ],
        },
      ],
    },
    checks: [
      ...REQUESTS.map((r) => ({ check: 'row_exists', name: `${r.feature} for ${r.customer}`, database_id: db, title_contains: [r.key], values: { Source: r.source }, value_contains: { Customer: r.customer } })),
      { check: 'chat_dm_sent', name: 'count to Ingrid', to: 'ingrid', contains: [`${REQUESTS.length}|six`] },
      { check: 'workplace_unchanged', notes: { may_create_under: [db], max_created: REQUESTS.length }, chat: { dms: ['ingrid'], max_posts: 1 } },
    ],
    steps: [
      step('search_messages', { query: 'feature request', folder: 'inbox' }),
      ...REQUESTS.filter((r) => r.source === 'Email').map((r) => step('read_message', { messageId: r.id })),
      step('read_channel', { channel: '#support' }),
      step('notes_search', { query: 'Feature requests' }),
      step('query_database', { database_id: db }),
      ...REQUESTS.map((r) => step('create_row', { database_id: db, title: r.feature, properties: { Customer: r.customer, Source: r.source } })),
      step('send_direct_message', { to: '@ingrid', text: `Added ${REQUESTS.length} new feature requests to the table (3 from email, 3 from #support).` }),
      step('submit', {}),
    ],
    family: { name: 'chat-and-mail-to-notes', params: { requests: REQUESTS.length } },
  });
}

interface Partner {
  company: string;
  contact: string;
  email: string;
  region: 'APAC' | 'DACH';
}

const PARTNERS: Partner[] = [
  { company: 'Wattle Digital', contact: 'Kirra Jessop', email: 'kirra@wattledigital.example', region: 'APAC' },
  { company: 'Bergwerk Systems', contact: 'Linus Gostelow', email: 'linus.gostelow@bergwerk.example', region: 'DACH' },
  { company: 'Koru Consulting', contact: 'Quinn Halloran', email: 'quinn@koruconsulting.example', region: 'APAC' },
  { company: 'Alpenrose IT', contact: 'Ilse Bellweather', email: 'ilse@alpenrose-it.example', region: 'DACH' },
  { company: 'Mangrove Partners', contact: 'Noor Inchbald', email: 'noor@mangrove.example', region: 'APAC' },
  { company: 'Rheinblick Data', contact: 'Osric Jessop', email: 'osric@rheinblick.example', region: 'DACH' },
];

export function partnerIntrosTask(): Task {
  const managerOf = (p: Partner) => (p.region === 'APAC' ? P.jordan : P.jonas);
  return workplaceTask({
    slug: 'partner-intro-emails',
    instruction:
      "Our new Q2 partners are listed on the Partner program Q2 page in Notes. Send each partner contact their own welcome email, with their region's partner manager (also on that page) on cc. Then post in #product which partners we welcomed.",
    difficulty: 'medium',
    labels: ['cross-app', 'notes', 'mail', 'chat', 'ambiguous-names', 'cc'],
    notes: {
      pages: [
        {
          id: 'partner-q2',
          parent: 'projects',
          title: 'Partner program Q2',
          author: 'u-jordan',
          age_days: 5,
          blocks: [
            'Partner managers: APAC — Jordan Avery; DACH — Jonas Peirce. (Support questions still go to Jonah Pierce.)',
            '# New partners this quarter',
            ...PARTNERS.map((p) => `- ${p.company} (${p.region}): ${p.contact}, ${p.email}`),
            '# Renewing partners',
            '- Tern Cloud (EMEA): no action needed',
          ],
        },
      ],
    },
    checks: [
      ...PARTNERS.map((p) => ({ check: 'message_sent', name: `welcome ${p.company}`, to: [p.email], cc: [managerOf(p).email], onlyRecipients: true })),
      { check: 'chat_message_posted', name: 'list in #product', channel: '#product', contains: PARTNERS.map((p) => p.company.split(' ')[0]!) },
      { check: 'workplace_unchanged', mail: { allowed: [...PARTNERS.map((p) => p.email), P.jordan.email, P.jonas.email], max: PARTNERS.length }, chat: { channels: ['#product'], max_posts: 1 } },
    ],
    steps: [
      step('notes_search', { query: 'Partner program Q2' }),
      step('get_page', { page_id: 'partner-q2' }),
      step('list_people', { query: 'Partnerships' }),
      ...PARTNERS.map((p) => step('send_message', { to: [p.email], cc: [managerOf(p).email], subject: `Welcome to the Larkspur partner program, ${p.company}`, body: `Hi ${p.contact.split(' ')[0]!},\n\nWelcome aboard! ${managerOf(p).name}, copied here, is your partner manager for ${p.region}.\n\nRobin` })),
      step('post_message', { channel: '#product', text: `Welcomed our new Q2 partners: ${PARTNERS.map((p) => p.company).join(', ')}.` }),
      step('submit', {}),
    ],
    family: { name: 'notes-to-mail', params: { partners: PARTNERS.length } },
  });
}
