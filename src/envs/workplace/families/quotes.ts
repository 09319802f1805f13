import type { JsonObject, Task } from '../../../core/index.ts';

import { step, workplaceTask } from './common.ts';

// Quotes arrive by mail in different shapes (one revised, one a refusal, one already logged);
// each goes into a notes database, and the cheapest one that meets the date wins, in chat.

interface Quote {
  firm: string;
  key: string;
  from: string;
  sender: string;
  id: string;
  amount: number | null;
  date: string | null;
  hoursAgo: number;
  subject: string;
  /** A later message that replaces this quote. */
  revision?: { id: string; amount: number; hoursAgo: number };
}

const QUOTES: Quote[] = [
  { firm: 'Hartwell Removals', key: 'Hartwell', from: 'bookings@hartwellremovals.example', sender: 'Dev Hartwell', id: 'msg_7301', amount: 4200, date: '2026-03-28', hoursAgo: 70, subject: 'Quote confirmation — office relocation' },
  { firm: 'Pennine Movers', key: 'Pennine', from: 'quotes@penninemovers.example', sender: 'Alys Brennan', id: 'msg_7302', amount: 3950, date: '2026-03-28', hoursAgo: 52, subject: 'Your moving quote' },
  { firm: 'Bluebird Relocation', key: 'Bluebird', from: 'hello@bluebirdrelocation.example', sender: 'Tom Saye', id: 'msg_7303', amount: 3480, date: '2026-04-04', hoursAgo: 49, subject: 'Bluebird Relocation: estimate for Larkspur' },
  { firm: 'Castleford & Sons', key: 'Castleford', from: 'office@castlefordsons.example', sender: 'Mary Castleford', id: 'msg_7304', amount: 4600, date: '2026-03-28', hoursAgo: 46, subject: 'Estimate ref CS-2291', revision: { id: 'msg_7305', amount: 3700, hoursAgo: 20 } },
  { firm: 'Northgate Moving Co', key: 'Northgate', from: 'sales@northgatemoving.example', sender: 'Ravi Dutta', id: 'msg_7306', amount: 4050, date: '2026-03-28', hoursAgo: 40, subject: 'Re: request for quotation' },
  { firm: 'Swiftcrate', key: 'Swiftcrate', from: 'team@swiftcrate.example', sender: 'Swiftcrate team', id: 'msg_7307', amount: null, date: null, hoursAgo: 38, subject: 'Your enquiry' },
  { firm: 'Larch Logistics', key: 'Larch', from: 'moves@larchlogistics.example', sender: 'Gwen Okoro', id: 'msg_7308', amount: 3820, date: '2026-03-28', hoursAgo: 30, subject: 'Office move pricing' },
  { firm: 'Ouseburn Movers', key: 'Ouseburn', from: 'info@ouseburnmovers.example', sender: 'Callum Reid', id: 'msg_7309', amount: 4400, date: '2026-03-28', hoursAgo: 26, subject: 'Quotation for your office move' },
  { firm: 'Tamarind Relocations', key: 'Tamarind', from: 'quotes@tamarindrelocations.example', sender: 'Priti Nair', id: 'msg_7310', amount: 3760, date: '2026-03-29', hoursAgo: 22, subject: 'Moving quote — Larkspur' },
];

const money = (n: number) => `£${n.toLocaleString('en-GB')}`;
const dayText = (date: string) => new Date(`${date}T12:00:00Z`).toLocaleDateString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });

function body(q: Quote): string {
  const opening = `Dear Robin,\n\nThank you for asking ${q.firm} to quote for moving the Larkspur office from Harbour Street to the Quayside building. We have been through the inventory and floor plans you sent.\n\n`;
  if (q.amount === null) return `${opening}Unfortunately we are fully booked through March and April, so we cannot offer a date or a price this time.\n\nBest wishes,\n${q.sender}`;
  return `${opening}Price: ${money(q.amount)} including VAT, packing crates and insurance.\nEarliest date we can do: ${dayText(q.date!)}.\n\nKind regards,\n${q.sender}\n${q.firm}`;
}

function mailFixtures(): JsonObject[] {
  return QUOTES.flatMap((q) => {
    const first = { id: q.id, thread: q.key, from: q.from, fromName: q.sender, subject: q.subject, body: body(q), hoursAgo: q.hoursAgo };
    if (!q.revision) return [first];
    return [
      first,
      { id: q.revision.id, thread: q.key, from: q.from, fromName: q.sender, subject: `Revised: ${q.subject}`, inReplyTo: q.id, body: `Dear Robin,\n\nFollowing your call with us we have looked again at the crate count and can bring the price down. This replaces our earlier estimate.\n\nRevised price: ${money(q.revision.amount)} including VAT, same date (${dayText(q.date!)}).\n\n${q.sender}`, hoursAgo: q.revision.hoursAgo },
    ];
  });
}

export function quotesTask(): Task {
  const logged = QUOTES[0]!;
  const fresh = QUOTES.filter((q) => q !== logged && q.amount !== null);
  const amountOf = (q: Quote) => q.revision?.amount ?? q.amount!;
  const winner = [...QUOTES].filter((q) => q.amount !== null && q.date === '2026-03-28').sort((a, b) => amountOf(a) - amountOf(b))[0]!;
  const db = 'db-move-quotes';
  const reads = QUOTES.flatMap((q) => (q.revision ? [q.id, q.revision.id] : [q.id]));
  return workplaceTask({
    slug: 'office-move-quotes',
    instruction:
      "Oliver asked me in chat to sort out the removal quotes for the office move. Do what he asked: every firm's quote goes in the notes table he mentions (if a firm revised its price, log the revised one; don't log firms that didn't quote, or anything that's already there). Then answer him in his thread with the cheapest firm that can do the date he needs, and email that firm to say we'd like to book them.",
    difficulty: 'hard',
    labels: ['cross-app', 'chat', 'mail', 'notes', 'database', 'long-horizon', 'revisions', 'reading'],
    chat: {
      channels: [{ name: 'ops', topic: 'Facilities and office operations', members: ['oliver.b', 'elena.v', 'ana.f', 'aisha'] }],
      messages: [
        { id: 'cm_6301', channel: 'ops', author: 'oliver.b', text: "Robin, the removal firms' quotes for the office move should all be in your inbox by now. Could you log each one in the 'Office move quotes' table in Notes (firm, price in GBP, earliest date they offered) and tell me here which is the cheapest firm that can do Saturday 28 March?", minutesAgo: 300 },
        { id: 'cm_6302', channel: 'ops', author: 'ana.f', text: 'For the record, any firm we book needs to send their insurance certificate to accounts.', minutesAgo: 240 },
      ],
    },
    mail: { messages: mailFixtures() },
    notes: {
      databases: [
        {
          id: db,
          parent: 'projects',
          title: 'Office move quotes',
          author: 'u-oliver',
          schema: { Price: { type: 'number' }, 'Earliest date': { type: 'date' }, Notes: { type: 'text' } },
          rows: [{ id: 'quote-hartwell', title: logged.firm, author: 'u-oliver', values: { Price: logged.amount, 'Earliest date': logged.date, Notes: 'quoted on the phone' } }],
        },
      ],
    },
    checks: [
      ...fresh.map((q) => ({ check: 'row_exists', name: `${q.firm} logged`, database_id: db, title_contains: [q.key], values: { Price: amountOf(q), 'Earliest date': q.date } })),
      { check: 'chat_thread_reply', name: 'answer in Oliver\'s thread', thread_of: 'cm_6301', contains: [winner.key] },
      { check: 'message_sent', name: 'booking mail to the winner', to: [winner.from], bodyContains: ['book|booking'] },
      { check: 'workplace_unchanged', mail: { allowed: [winner.from], max: 1 }, notes: { may_create_under: [db], max_created: fresh.length }, chat: { threads: ['cm_6301'], max_posts: 1 } },
    ],
    steps: [
      step('search_chat', { query: 'quotes', from: 'oliver.b' }),
      step('search_messages', { query: 'quote' }),
      step('search_messages', { query: 'price' }),
      ...reads.map((id) => step('read_message', { messageId: id })),
      step('notes_search', { query: 'Office move quotes' }),
      step('query_database', { database_id: db }),
      ...fresh.map((q) => step('create_row', { database_id: db, title: q.firm, properties: { Price: amountOf(q), 'Earliest date': q.date } })),
      step('reply_in_thread', { message_id: 'cm_6301', text: `All quotes are in the table. Cheapest that can do Saturday 28 March: ${winner.firm} at ${money(amountOf(winner))} (Bluebird is cheaper but can only do 4 April).` }),
      step('reply', { messageId: winner.revision?.id ?? winner.id, body: `Hello ${winner.sender.split(' ')[0]!},\n\nWe'd like to book ${winner.firm} for Saturday 28 March at ${money(amountOf(winner))}. Please send the booking confirmation and your insurance certificate.\n\nRobin Okafor\nLarkspur` }),
      step('submit', {}),
    ],
    family: { name: 'quotes-to-database', params: { firms: QUOTES.length, winner: winner.firm } },
  });
}


