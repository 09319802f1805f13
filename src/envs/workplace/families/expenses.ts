import type { Task } from '../../../core/index.ts';
import { P, type Colleague } from '../people.ts';
import { step, workplaceTask } from './common.ts';

// Expense claims arrive by mail; the current policy is a notes page (an older, superseded one may
// also be in the wiki). Each claim gets its own approve or reject reply; Finance gets the total.

interface Claim {
  id: string;
  who: Colleague;
  subject: string;
  details: string;
  amount: number;
  /** Words a rejection should give as its reason; absent for claims that pass the policy. */
  reject?: string;
}

const CLAIMS: Claim[] = [
  { id: 'msg_9201', who: P.priya, subject: 'Expense claim: candidate lunch', details: 'Lunch with a candidate after the onsite interview: £38 for one person. Receipt attached.', amount: 38 },
  { id: 'msg_9202', who: P.marcus, subject: 'Expense claim: taxi after late deploy', details: 'Taxi home after the 22:30 production deploy: £27. Receipt attached.', amount: 27 },
  { id: 'msg_9203', who: P.devika, subject: 'Expense claim: Leeds trip dinner', details: 'Dinner on my own in Leeds during the data workshop: £58. Receipt attached.', amount: 58, reject: 'meal|meals|45' },
  { id: 'msg_9204', who: P.hana, subject: 'Expense claim: Manchester hotel', details: 'One night at a hotel in Manchester for the design conference: £165. Receipt attached.', amount: 165, reject: 'hotel|140' },
  { id: 'msg_9205', who: P.samira, subject: 'Expense claim: taxi to the office', details: 'Taxi to the office at 09:00 on Monday, nothing to carry: £19. Receipt attached.', amount: 19, reject: 'taxi|taxis|21:00' },
  { id: 'msg_9206', who: P.kofi, subject: 'Expense claim: London hotel', details: 'One night at a hotel in London before the early datacentre visit: £175. Receipt attached.', amount: 175 },
  { id: 'msg_9207', who: P.tomas, subject: 'Expense claim: client dinner', details: 'Dinner with the Vantor Labs engineers: £41 in total, of which £22 was a bottle of wine. Receipt attached.', amount: 41, reject: 'alcohol|wine' },
  { id: 'msg_9208', who: P.lucia, subject: 'Expense claim: conference lunch', details: 'Lunch at the marketing conference: £12. I lost the receipt, sorry.', amount: 12, reject: 'receipt' },
  { id: 'msg_9209', who: P.chen, subject: 'Expense claim: taxi with demo kit', details: 'Taxi to the customer demo carrying the demo kit (two monitors and a console): £34. Receipt attached.', amount: 34 },
  { id: 'msg_9210', who: P.oliver, subject: 'Expense claim: rail tickets', details: 'Return rail tickets to Bristol for the office viewing: £96. Receipt attached.', amount: 96 },
];

const REJECTED = 'reject|rejected|declined|decline|cannot approve|can\'t approve|not approved';

export function expensesTask(): Task {
  const approved = CLAIMS.filter((c) => !c.reject);
  const total = approved.reduce((s, c) => s + c.amount, 0);
  return workplaceTask({
    slug: 'expense-approvals',
    instruction:
      "Elena needs me to clear my team's expense claims today. Check each claim in my inbox against the current expense policy in the Notes wiki, and reply to each claimant individually: approved, or rejected with the rule it breaks. Then post the total amount I approved in Elena's thread in #finance.",
    difficulty: 'hard',
    labels: ['cross-app', 'mail', 'notes', 'chat', 'policy', 'long-horizon', 'superseded-docs'],
    chat: {
      messages: [
        { id: 'cm_9301', channel: 'finance', author: 'elena.v', text: '@robin month-end close is tomorrow: please clear your team\'s expense claims and post the total you approved in this thread.', minutesAgo: 200 },
        { id: 'cm_9302', channel: 'finance', author: 'ana.f', text: 'Reminder: the 2026 policy lowered the hotel cap outside London.', minutesAgo: 190 },
      ],
    },
    notes: {
      pages: [
        {
          id: 'expense-policy-2026',
          parent: 'wiki',
          title: 'Expense policy 2026 (current)',
          author: 'u-elena',
          age_days: 40,
          blocks: [
            'This page supersedes the old Expense policy page. Approvers check every claim against these rules:',
            '- Meals: up to £45 per person per day.',
            '- Taxis: only when travelling after 21:00, or when carrying equipment.',
            '- Hotels: up to £180 per night in London, £140 per night elsewhere.',
            '- Alcohol is never reimbursed.',
            '- Every claim needs a receipt.',
            'Rail and flights booked through the travel portal are fine with a receipt.',
          ],
        },
        { id: 'expense-policy-2024', parent: 'wiki', title: 'Expense policy 2024 (archived copy)', author: 'u-elena', age_days: 400, blocks: ['Superseded.', '- Meals: up to £60 per day.', '- Hotels: up to £200 per night anywhere.'] },
      ],
    },
    mail: {
      messages: CLAIMS.map((c, i) => ({ id: c.id, from: c.who.email, fromName: c.who.name, subject: c.subject, hoursAgo: 30 - i * 2, body: `Hi Robin,\n\nPlease could you approve this claim when you have a moment.\n\n${c.details}\n\nThanks,\n${c.who.name.split(' ')[0]!}` })),
    },
    checks: [
      ...CLAIMS.map((c) =>
        c.reject
          ? { check: 'message_sent', name: `reject ${c.who.name}`, to: [c.who.email], inReplyTo: c.id, bodyContains: [REJECTED, c.reject] }
          : { check: 'message_sent', name: `approve ${c.who.name}`, to: [c.who.email], inReplyTo: c.id, bodyContains: ['approved|approve'], bodyExcludes: [REJECTED] },
      ),
      { check: 'chat_thread_reply', name: "total in Elena's thread", thread_of: 'cm_9301', contains: [`${total}|£${total}`] },
      { check: 'workplace_unchanged', mail: { allowed: CLAIMS.map((c) => c.who.email), max: CLAIMS.length }, chat: { threads: ['cm_9301'], max_posts: 1 } },
    ],
    steps: [
      step('search_chat', { query: 'expense', channel: '#finance' }),
      step('notes_search', { query: 'expense policy' }),
      step('get_page', { page_id: 'expense-policy-2026' }),
      step('search_messages', { query: 'expense claim', folder: 'inbox' }),
      ...CLAIMS.map((c) => step('read_message', { messageId: c.id })),
      ...CLAIMS.map((c) => step('reply', { messageId: c.id, body: c.reject ? `Hi ${c.who.name.split(' ')[0]!}, sorry — rejected: ${reasonOf(c)}.` : `Hi ${c.who.name.split(' ')[0]!}, approved — thanks.` })),
      step('reply_in_thread', { message_id: 'cm_9301', text: `Done: I approved £${total} in total; the other claims went back with reasons.` }),
      step('submit', {}),
    ],
    family: { name: 'policy-approvals', params: { claims: CLAIMS.length, approvedTotal: total } },
  });
}

function reasonOf(c: Claim): string {
  const first = (c.reject ?? '').split('|')[0]!;
  const reasons: Record<string, string> = {
    meal: 'meals are capped at £45 per day',
    hotel: 'hotels outside London are capped at £140 per night',
    taxi: 'taxis are only covered after 21:00 or when carrying equipment',
    alcohol: 'alcohol is never reimbursed',
    receipt: 'every claim needs a receipt',
  };
  return reasons[first] ?? 'it breaks the expense policy';
}
