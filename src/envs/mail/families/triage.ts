import type { JsonObject, Task } from '../../../core/index.ts';
import type { ContactFixtureInput, MessageFixtureInput } from '../schema.ts';
import { addressOf, familyTask, IdPool, step } from './build.ts';

type Category = 'billing' | 'technical' | 'account';
const CATEGORIES: Category[] = ['billing', 'technical', 'account'];

/** Ticket bodies whose category is clear from the content, not from the (bland) subject. */
const TICKETS: { category: Category; body: string }[] = [
  { category: 'billing', body: 'I was charged £49 this month but my plan is £39. Can you refund the difference?' },
  { category: 'technical', body: 'The sync has been failing since yesterday with "error 0x42" and nothing uploads.' },
  { category: 'account', body: 'I need to change the email address I log in with to my new work address.' },
  { category: 'billing', body: 'Our invoice for February is addressed to the wrong company name. Please reissue it.' },
  { category: 'technical', body: 'The desktop app crashes every time I open the settings page on Windows 11.' },
  { category: 'account', body: 'How do I add two more users to our team workspace?' },
  { category: 'billing', body: 'Could you switch us from monthly to annual payment and tell me the new price?' },
  { category: 'technical', body: 'Exports to CSV come out empty even though the table has hundreds of rows.' },
  { category: 'account', body: 'I forgot my password and the reset email never arrives. Please help me get back in.' },
  { category: 'billing', body: 'Our card expired. How do we update the payment card on file?' },
  { category: 'technical', body: 'Webhooks stopped firing after we rotated our API key on Monday.' },
  { category: 'account', body: 'Please close the account of a colleague who has left: j.baptiste.' },
  { category: 'technical', body: 'Pages take over 30 seconds to load since the last update.' },
  { category: 'billing', body: 'We were charged VAT although we gave you our EU VAT number.' },
];
const SUBJECTS = ['Help needed', 'Question', 'Quick question', 'Urgent', 'Please help', 'Support request', 'Issue'] as const;
const PEOPLE = [
  'Agnieszka Wrobel', 'Bruno Tavares', 'Cecile Marchand', 'Dmitar Nikolov', 'Eero Laine', 'Fatou Diallo', 'Goran Lukic',
  'Helka Virtanen', 'Idris Bello', 'Jana Novak', 'Kenji Okada', 'Lucija Horvat', 'Mehmet Kaya', 'Noor Haddad',
] as const;

interface TriageVariant {
  slug: string;
  count: number;
  folder?: string;
}

function triageTask(variant: TriageVariant): Task {
  const ids = new IdPool(`triage:${variant.slug}`);
  const tickets = TICKETS.slice(0, variant.count).map((t, i) => {
    const person = PEOPLE[i]!;
    return { ...t, id: ids.next(`t${i}`), person, email: addressOf(person, ['clientmail.example', 'firm-mail.example'][i % 2]!), number: 88_120 + i * 13 };
  });
  const messages: MessageFixtureInput[] = tickets.map((t, i) => ({
    id: t.id,
    from: 'helpdesk-form@northwind.example',
    fromName: 'Northwind Help Form',
    subject: `Ticket ${t.number}: ${SUBJECTS[i % SUBJECTS.length]!}`,
    body: `New ticket from ${t.person} <${t.email}>\n\nCustomer wrote:\n${t.body}`,
    hoursAgo: 1 + i * 3,
  }));
  messages.push({ id: ids.next('digest'), from: 'helpdesk-form@northwind.example', fromName: 'Northwind Help Form', subject: 'Weekly ticket digest', body: 'Last week: 58 tickets opened, 61 closed, median first reply 3h.', hoursAgo: 70, read: true });
  const byCategory = (c: Category) => tickets.filter((t) => t.category === c).map((t) => t.id);
  const all = tickets.map((t) => t.id);
  const checks: JsonObject[] = CATEGORIES.flatMap((c): JsonObject[] => [
    { check: 'has_label', name: `${c} tickets labelled ${c}`, messageIds: byCategory(c), label: c },
    { check: 'has_label', name: `no other ticket labelled ${c}`, messageIds: all.filter((id) => !byCategory(c).includes(id)), label: c, present: false },
  ]);
  if (variant.folder) checks.push({ check: 'message_in_folder', name: `tickets in ${variant.folder}`, messageIds: all, folder: variant.folder });
  checks.push({ check: 'messages_unchanged_except', except: all }, { check: 'no_other_sent', max: 0 });
  const move = variant.folder;
  return familyTask({
    id: `mail/triage-support-tickets-${variant.slug}`,
    instruction:
      "Triage the support tickets in my inbox (subjects start with 'Ticket'): label each one billing, technical or account according to " +
      `what the customer is asking about, one label per ticket.${move ? ` Then move each ticket into a new folder called '${move}'.` : ''} ` +
      'The subjects are not informative, so you will have to read them.',
    difficulty: 'hard',
    labels: ['triage', 'labels', 'judgement', 'bulk', 'long', ...(move ? ['folders'] : [])],
    family: { name: 'ticket-triage', params: { count: variant.count, folder: move ?? null } },
    messages,
    checks,
    steps: [
      ...(move ? [step('create_folder', { name: move })] : []),
      step('search_messages', { query: 'ticket', folder: 'inbox', pageSize: 25 }),
      ...tickets.flatMap((t) => [
        step('read_message', { messageId: t.id }),
        step('add_label', { messageId: t.id, label: t.category }),
        ...(move ? [step('move_message', { messageId: t.id, folder: move })] : []),
      ]),
    ],
    maxTurns: 80,
  });
}

const SPEAKERS = [
  { name: 'Alinta Walker', company: 'Brightwater Labs', phone: '+61 2 5550 1842', talk: 'Testing data pipelines' },
  { name: 'Benedikt Sauer', company: 'Kranich Systems', phone: '+49 30 5557 2210', talk: 'Small models at the edge' },
  { name: 'Carmen Ibarra', company: 'Solana Verde', phone: '+34 91 555 0198', talk: 'Accessible dashboards' },
  { name: 'Deniz Arslan', company: 'Kuzey Software', phone: '+90 212 555 0147', talk: 'Feature flags that age well' },
  { name: 'Elin Sandberg', company: 'Norrsken AB', phone: '+46 8 555 012 77', talk: 'On-call without burnout' },
  { name: 'Farhan Qureshi', company: 'Indus Cloudworks', phone: '+92 21 555 0163', talk: 'Cost-aware architecture' },
  { name: 'Greta Bauer', company: 'Alpenrot GmbH', phone: '+43 1 555 0821', talk: 'Postgres for queues' },
  { name: 'Henrique Lopes', company: 'Maré Digital', phone: '+351 21 555 0336', talk: 'Typed event schemas' },
] as const;

/** Add each speaker sign-up to contacts; one withdrew and one is already a contact. */
function speakerSignups(): Task {
  const ids = new IdPool('triage:speakers');
  const people = SPEAKERS.map((s) => ({ ...s, email: addressOf(s.name, `${s.company.toLowerCase().split(/\s+/)[0]!.replace(/[^a-z]/g, '')}.example`), id: ids.next(s.name) }));
  const withdrawn = people[3]!;
  const existing = people[6]!;
  const toAdd = people.filter((p) => p !== withdrawn && p !== existing);
  const messages: MessageFixtureInput[] = people.map((p, i) => ({
    id: p.id,
    from: 'forms@northwind.example',
    fromName: 'Northwind Forms',
    subject: `New speaker sign-up: April meetup (${i + 1})`,
    body: `A new speaker signed up for the Northwind April meetup.\n\nTalk title: ${p.talk}\n\nName: ${p.name}\nEmail: ${p.email}\nCompany: ${p.company}\nPhone: ${p.phone}`,
    hoursAgo: 10 + i * 14,
  }));
  messages.push({ id: ids.next('withdrawal'), from: withdrawn.email, fromName: withdrawn.name, subject: 'Withdrawing my meetup talk', body: "Hi Robin, sorry, I have to withdraw my talk for the April meetup; I'll be travelling. Deniz", hoursAgo: 4 });
  const contacts: ContactFixtureInput[] = [{ name: existing.name, email: existing.email, company: existing.company, phone: existing.phone }];
  return familyTask({
    id: 'mail/contacts-from-speaker-signups',
    instruction:
      'Add everyone who signed up to speak at the April meetup (the sign-ups come from the web form) to my contacts, with their name, ' +
      "email, company and phone. Skip anyone who has since withdrawn, and anyone who's already a contact.",
    difficulty: 'hard',
    labels: ['contacts', 'bulk', 'per-item-lookup', 'long'],
    family: { name: 'speaker-signups', params: { signups: people.length, withdrawn: 1, existing: 1 } },
    messages,
    contacts,
    checks: [
      ...toAdd.map((p) => ({ check: 'contact_exists', name: p.name, email: p.email, company: p.company, phone: p.phone })),
      { check: 'contact_absent', name: 'withdrawn speaker not added', email: withdrawn.email },
      { check: 'contacts_unchanged_except', emails: toAdd.map((p) => p.email) },
      { check: 'messages_unchanged_except' },
      { check: 'no_other_sent', max: 0 },
    ],
    steps: [
      step('search_messages', { query: 'speaker sign-up', pageSize: 25 }),
      step('search_messages', { query: 'withdraw meetup' }),
      ...toAdd.flatMap((p) => [step('read_message', { messageId: p.id }), step('add_contact', { name: p.name, email: p.email, company: p.company, phone: p.phone })]),
    ],
    maxTurns: 60,
  });
}

export function triageTasks(): Task[] {
  return [triageTask({ slug: 'labels', count: 14 }), triageTask({ slug: 'labels-and-file', count: 10, folder: 'Support' }), speakerSignups()];
}
