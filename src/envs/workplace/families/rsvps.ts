import type { Task } from '../../../core/index.ts';
import type { ChatMessageFixtureInput } from '../chat-schema.ts';
import { P, type Colleague } from '../people.ts';
import { step, workplaceTask } from './common.ts';

// RSVPs for the offsite arrive as thread replies (some people change their minds later in the
// thread) and as DMs from people who could not find the thread. One database row per person,
// then the caterer gets the numbers by mail and the organiser gets the headcount in chat.

type Diet = 'None' | 'Vegetarian' | 'Vegan' | 'Gluten-free' | 'Halal';

interface Rsvp {
  who: Colleague;
  attending: boolean;
  diet: Diet;
  /** The messages that make up their answer, in order (later ones win). */
  says: string[];
  via?: 'dm';
}

const RSVPS: Rsvp[] = [
  { who: P.priya, attending: true, diet: 'None', says: ['In! No dietary needs.'] },
  { who: P.marcus, attending: true, diet: 'Vegetarian', says: ['Coming, vegetarian please.'] },
  { who: P.hana, attending: false, diet: 'None', says: ["Sadly can't make it, I'll be in Tokyo that week."] },
  { who: P.samira, attending: true, diet: 'Halal', says: ['Yes! Halal please.'] },
  { who: P.tomas, attending: true, diet: 'Vegan', says: ['Count me in. Vegan.'] },
  { who: P.devika, attending: true, diet: 'Vegetarian', says: ['Yes, vegetarian.'] },
  { who: P.oliver, attending: true, diet: 'None', says: ["I'll be there, no restrictions."] },
  { who: P.chen, attending: false, diet: 'None', says: ["Can't join, it clashes with the mobile release."] },
  { who: P.lucia, attending: true, diet: 'Gluten-free', says: ['Yes — gluten-free for me.'] },
  { who: P.kofi, attending: true, diet: 'Vegan', says: ['In, vegetarian.', 'Update: I went vegan this month, please put me down as vegan instead.'] },
  { who: P.elena, attending: true, diet: 'None', says: ['Yes!'] },
  { who: P.jonah, attending: false, diet: 'None', says: ["I'm in.", 'Actually I have to cover support that day, sorry — count me out.'] },
  { who: P.nadia, attending: true, diet: 'None', says: ['Coming. No dietary needs.'] },
  { who: P.samC, attending: true, diet: 'Gluten-free', says: ["Couldn't find the offsite thread — I'm coming to the offsite, gluten-free please."], via: 'dm' },
  { who: P.ingrid, attending: true, diet: 'Vegetarian', says: ['Put me down for the offsite please, vegetarian.'], via: 'dm' },
];

const ME_ROW = { attending: true, diet: 'None' as Diet };
const CATERER = { email: 'events@fennelandfig.example', name: 'Bronwen Coulter' };
const lastName = (c: Colleague) => c.name.split(' ').slice(-1)[0]!;

export function rsvpsTask(): Task {
  const db = 'db-offsite';
  const messages: ChatMessageFixtureInput[] = [
    { id: 'cm_8001', channel: 'offsite', author: 'aisha', text: 'Team offsite on Thursday 2 April at the Old Boathouse! Reply in this thread: are you coming, and any dietary needs?', minutesAgo: 3000 },
  ];
  let n = 2;
  let ago = 2900;
  const threadOrder = RSVPS.filter((r) => r.via !== 'dm').flatMap((r) => r.says.map((text, i) => ({ r, text, late: i > 0 })));
  // Changes of mind come after everyone else's first answer.
  for (const { r, text } of [...threadOrder.filter((t) => !t.late), ...threadOrder.filter((t) => t.late)]) {
    messages.push({ id: `cm_80${String(n++).padStart(2, '0')}`, channel: 'offsite', author: r.who.handle, text, thread: 'cm_8001', minutesAgo: (ago -= 120) });
  }
  messages.push({ id: 'cm_8060', channel: 'offsite', author: 'aisha', text: 'Reminder: please reply by Tuesday so Robin can confirm numbers with the caterer.', thread: 'cm_8001', minutesAgo: 400 });
  for (const r of RSVPS.filter((x) => x.via === 'dm')) messages.push({ id: `cm_80${String(n++).padStart(2, '0')}`, channel: `@${r.who.handle}`, author: r.who.handle, text: r.says[0]!, minutesAgo: (ago -= 60) });
  messages.push({ id: 'cm_8070', channel: '@aisha', author: 'aisha', text: 'Thanks for handling the caterer! I added myself to the RSVP table already.', minutesAgo: 200 });

  const attending = RSVPS.filter((r) => r.attending);
  const total = attending.length + 2; // plus Aisha (already in the table) and me
  const dmChannels = RSVPS.filter((r) => r.via === 'dm').map((r) => `@${r.who.handle}`);
  return workplaceTask({
    slug: 'offsite-rsvps',
    instruction:
      "Collect the offsite RSVPs. Everyone answered in Aisha's thread in #offsite, except a couple of people who DMed me instead — and some changed their answer later, so go by each person's latest message. Add one row per person to the Offsite RSVPs table in Notes (attending or not, and their dietary need). I'm going too (no dietary needs), so add me. Then reply to the caterer's email with the total number of people attending and how many need each diet, and tell Aisha the headcount in her thread.",
    difficulty: 'hard',
    labels: ['cross-app', 'chat', 'notes', 'mail', 'database', 'long-horizon', 'changed-answers'],
    chat: { channels: [{ name: 'offsite', topic: 'Team offsite 2 April' }], messages },
    mail: {
      messages: [
        { id: 'msg_9101', from: CATERER.email, fromName: CATERER.name, subject: 'Larkspur offsite 2 April — final numbers', hoursAgo: 26, body: `Hi Robin,\n\nWe're looking forward to catering your offsite at the Old Boathouse. Could you confirm the final number of guests and the dietary requirements (how many vegetarian, vegan, gluten-free, halal) by Wednesday?\n\nThanks,\n${CATERER.name}\nFennel & Fig Catering` },
        { id: 'msg_9102', from: 'bookings@oldboathouse.example', fromName: 'The Old Boathouse', subject: 'Your booking on 2 April', hoursAgo: 50, body: 'Your venue booking for Thursday 2 April is confirmed for up to 30 guests.' },
      ],
    },
    notes: {
      databases: [
        {
          id: db,
          parent: 'projects',
          title: 'Offsite RSVPs',
          author: 'u-aisha',
          schema: { Attending: { type: 'checkbox' }, Dietary: { type: 'select', options: ['None', 'Vegetarian', 'Vegan', 'Gluten-free', 'Halal'] } },
          rows: [{ id: 'rsvp-aisha', title: 'Aisha Bello', author: 'u-aisha', values: { Attending: true, Dietary: 'None' } }],
        },
      ],
    },
    checks: [
      ...RSVPS.map((r) => ({ check: 'row_exists', name: `RSVP ${r.who.name}`, database_id: db, title_contains: [lastName(r.who)], values: { Attending: r.attending, ...(r.attending ? { Dietary: r.diet } : {}) } })),
      { check: 'row_exists', name: 'my RSVP', database_id: db, title_contains: ['Okafor'], values: { Attending: ME_ROW.attending, Dietary: ME_ROW.diet } },
      { check: 'message_sent', name: 'numbers to the caterer', to: [CATERER.email], bodyContains: [String(total), 'vegetarian', 'vegan', 'gluten', 'halal'] },
      { check: 'chat_thread_reply', name: "headcount in Aisha's thread", thread_of: 'cm_8001', contains: [String(total)] },
      { check: 'workplace_unchanged', mail: { allowed: [CATERER.email], max: 1 }, notes: { may_create_under: [db], max_created: RSVPS.length + 1 }, chat: { threads: ['cm_8001'], max_posts: 1 } },
    ],
    steps: [
      step('read_channel', { channel: '#offsite' }),
      step('read_channel', { channel: '#offsite', thread_id: 'cm_8001' }),
      step('list_channels', {}),
      ...dmChannels.map((c) => step('read_channel', { channel: c })),
      step('notes_search', { query: 'Offsite RSVPs' }),
      step('query_database', { database_id: db }),
      ...RSVPS.map((r) => step('create_row', { database_id: db, title: r.who.name, properties: { Attending: r.attending, Dietary: r.attending ? r.diet : 'None' } })),
      step('create_row', { database_id: db, title: 'Robin Okafor', properties: { Attending: true, Dietary: 'None' } }),
      step('search_messages', { query: 'offsite numbers' }),
      step('reply', { messageId: 'msg_9101', body: dietSummary(total) }),
      step('reply_in_thread', { message_id: 'cm_8001', text: `Headcount is ${total}; numbers and diets are with the caterer.` }),
      step('submit', {}),
    ],
    family: { name: 'collect-rsvps', params: { people: RSVPS.length, attending: total } },
  });
}

function dietSummary(total: number): string {
  const people = [...RSVPS.filter((r) => r.attending).map((r) => r.diet), 'None', 'None'];
  const count = (d: Diet) => people.filter((p) => p === d).length;
  return `Hi Bronwen,\n\nFinal numbers: ${total} people attending. Dietary: ${count('Vegetarian')} vegetarian, ${count('Vegan')} vegan, ${count('Gluten-free')} gluten-free, ${count('Halal')} halal, the rest no requirements.\n\nThanks,\nRobin`;
}
