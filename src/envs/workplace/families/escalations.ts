import type { Task } from '../../../core/index.ts';
import { P, type Colleague } from '../people.ts';
import { step, workplaceTask } from './common.ts';

// Customers escalate by mail; the account manager is only in the notes Accounts table, keyed by
// the account number at the bottom of each mail. Look-alike customers and a Jonah/Jonas pair
// punish guessing from names.

interface Account {
  customer: string;
  accountId: string;
  manager: Colleague;
  plan: 'Starter' | 'Growth' | 'Enterprise';
}

const ACCOUNTS: Account[] = [
  { customer: 'Quillon Freight', accountId: 'LK-4471', manager: P.samC, plan: 'Enterprise' },
  { customer: 'Quillon Freight Canada', accountId: 'LK-4480', manager: P.jordan, plan: 'Growth' },
  { customer: 'Osprey Dental Group', accountId: 'LK-3902', manager: P.jonas, plan: 'Enterprise' },
  { customer: 'Osprey Dental Labs', accountId: 'LK-3977', manager: P.samC, plan: 'Growth' },
  { customer: 'Meridian Tile Co', accountId: 'LK-5120', manager: P.jordan, plan: 'Enterprise' },
  { customer: 'Vantor Labs', accountId: 'LK-2288', manager: P.jonas, plan: 'Enterprise' },
  { customer: 'Hollowbrook Insurance', accountId: 'LK-6610', manager: P.samC, plan: 'Enterprise' },
  { customer: 'Tidewater Outfitters', accountId: 'LK-7043', manager: P.jordan, plan: 'Growth' },
  { customer: 'Kestrel Biosciences', accountId: 'LK-1187', manager: P.jonas, plan: 'Enterprise' },
  { customer: 'Bramblecrest Foods', accountId: 'LK-9034', manager: P.samC, plan: 'Starter' },
  { customer: 'Fernhill Academy', accountId: 'LK-5561', manager: P.jordan, plan: 'Starter' },
  { customer: 'Gallowgate Studios', accountId: 'LK-8125', manager: P.jonas, plan: 'Growth' },
];

interface Escalation {
  id: string;
  accountId: string;
  from: string;
  name: string;
  subject: string;
  complaint: string;
  hoursAgo: number;
}

const ESCALATIONS: Escalation[] = [
  { id: 'msg_8401', accountId: 'LK-4480', from: 'd.moreau@quillon-ca.example', name: 'Delphine Moreau', subject: 'Invoices missing again', complaint: 'Our March invoice never arrived and the billing page shows an error when we try to download it.', hoursAgo: 20 },
  { id: 'msg_8402', accountId: 'LK-3977', from: 'accounts@ospreylabs.example', name: 'Kirra Lasseter', subject: 'URGENT: double charged', complaint: 'We were charged twice for February. Please refund the duplicate as soon as possible.', hoursAgo: 18 },
  { id: 'msg_8403', accountId: 'LK-5120', from: 'finance@meridiantile.example', name: 'Osric Halloran', subject: 'Invoice PDF is blank', complaint: 'Every invoice PDF we download is blank. Our auditors need them this week.', hoursAgo: 16 },
  { id: 'msg_8404', accountId: 'LK-2288', from: 'cfo@vantorlabs.example', name: 'Noor Everly', subject: 'Billing outage — escalation', complaint: 'The billing outage has blocked our month-end close. We need a call with our account team.', hoursAgo: 15 },
  { id: 'msg_8405', accountId: 'LK-6610', from: 'j.kilbride@hollowbrook.example', name: 'Jun Kilbride', subject: 'Cannot see invoices', complaint: 'Since Friday nobody on our team can see any invoices in the portal.', hoursAgo: 12 },
  { id: 'msg_8406', accountId: 'LK-1187', from: 'ap@kestrelbio.example', name: 'Linus Ashdown', subject: 'Wrong VAT on invoice', complaint: 'The latest invoice applies VAT twice. Please issue a corrected invoice.', hoursAgo: 10 },
  { id: 'msg_8407', accountId: 'LK-7043', from: 'ops@tidewateroutfitters.example', name: 'Petra Fairbairn', subject: 'Invoice emails bouncing', complaint: 'Your invoice emails to our billing address bounce. Can someone check the address on file?', hoursAgo: 7 },
  { id: 'msg_8408', accountId: 'LK-8125', from: 'studio@gallowgate.example', name: 'Emeka Drummond', subject: 'Charged after cancelling', complaint: 'We cancelled the add-on in January but were still invoiced for it in March.', hoursAgo: 4 },
];

const customerOf = (id: string) => ACCOUNTS.find((a) => a.accountId === id)!;

export function escalationsTask(): Task {
  const db = 'db-accounts';
  const managers = [...new Set(ESCALATIONS.map((e) => customerOf(e.accountId).manager.email))];
  return workplaceTask({
    slug: 'route-billing-escalations',
    instruction:
      "Jonah asked me in #support to route the billing escalations that customers emailed me directly. Forward each escalation to that customer's account manager (the Accounts table in Notes says who; match on the account number the customer gives), then let Jonah know in his thread that they're all routed.",
    difficulty: 'hard',
    labels: ['cross-app', 'chat', 'mail', 'notes', 'routing', 'long-horizon', 'ambiguous-names', 'lookalikes'],
    chat: {
      messages: [
        { id: 'cm_7001', channel: 'support', author: 'jonah', text: "Robin — several enterprise customers emailed you directly about invoices after Friday's billing outage. Could you forward each one to their account manager and reply here when they're all routed?", minutesAgo: 180 },
        { id: 'cm_7002', channel: 'support', author: 'tomas', text: 'Billing fix is deployed; invoices regenerate overnight.', minutesAgo: 150 },
      ],
    },
    mail: {
      messages: [
        ...ESCALATIONS.map((e) => ({
          id: e.id,
          from: e.from,
          fromName: e.name,
          subject: e.subject,
          hoursAgo: e.hoursAgo,
          body: `Hello Robin,\n\nI'm writing because this is now affecting our business and support has not resolved it. ${e.complaint}\n\nPlease make sure the right person picks this up.\n\n${e.name}\n${customerOf(e.accountId).customer}\nAccount: ${e.accountId}`,
        })),
        { id: 'msg_8409', from: 'events@quillonfreight.example', fromName: 'Quillon Freight', subject: 'Thanks for the invoice automation webinar', hoursAgo: 30, body: 'Hi Robin, thanks for hosting the webinar on invoice automation. The recording link worked well for our team.\n\nQuillon Freight\nAccount: LK-4471' },
      ],
    },
    notes: {
      databases: [
        {
          id: db,
          parent: 'projects',
          title: 'Accounts',
          author: 'u-sam-c',
          schema: { 'Account ID': { type: 'text' }, 'Account manager': { type: 'person' }, Plan: { type: 'select', options: ['Starter', 'Growth', 'Enterprise'] } },
          rows: ACCOUNTS.map((a, i) => ({ id: `acct-${i + 1}`, title: a.customer, author: 'u-sam-c', values: { 'Account ID': a.accountId, 'Account manager': a.manager.email, Plan: a.plan } })),
        },
      ],
    },
    checks: [
      ...ESCALATIONS.map((e) => ({ check: 'message_sent', name: `${customerOf(e.accountId).customer} to ${customerOf(e.accountId).manager.name}`, to: [customerOf(e.accountId).manager.email], forwardOf: e.id })),
      { check: 'chat_thread_reply', name: "reply in Jonah's thread", thread_of: 'cm_7001', contains: ['routed|forwarded|sent'] },
      { check: 'workplace_unchanged', mail: { allowed: managers, max: ESCALATIONS.length }, chat: { threads: ['cm_7001'], max_posts: 1 } },
    ],
    steps: [
      step('read_channel', { channel: '#support' }),
      step('search_messages', { query: 'invoice', folder: 'inbox' }),
      step('search_messages', { query: 'charged', folder: 'inbox' }),
      ...ESCALATIONS.map((e) => step('read_message', { messageId: e.id })),
      step('notes_search', { query: 'Accounts', kind: 'database' }),
      step('query_database', { database_id: db, limit: 25 }),
      ...ESCALATIONS.map((e) => step('forward', { messageId: e.id, to: [customerOf(e.accountId).manager.email], note: `Escalation from ${customerOf(e.accountId).customer} (${e.accountId}), your account — please pick this up.` })),
      step('reply_in_thread', { message_id: 'cm_7001', text: `All ${ESCALATIONS.length} escalations are routed to their account managers.` }),
      step('submit', {}),
    ],
    family: { name: 'route-by-lookup', params: { escalations: ESCALATIONS.length, accounts: ACCOUNTS.length } },
  });
}

