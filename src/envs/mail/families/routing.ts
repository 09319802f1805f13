import type { JsonObject, Task } from '../../../core/index.ts';
import type { MessageFixtureInput } from '../schema.ts';
import { familyTask, IdPool, step } from './build.ts';

interface Component {
  name: string;
  /** Ways a note may name it. */
  keyword: string;
  owner: { name: string; email: string };
}

const COMPONENTS: Component[] = [
  { name: 'Billing', keyword: 'billing', owner: { name: 'Kofi Mensah', email: 'kofi.mensah@northwind.example' } },
  { name: 'Search', keyword: 'search', owner: { name: 'Lena Vogt', email: 'lena.vogt@northwind.example' } },
  { name: 'Mobile app', keyword: 'mobile app|mobile|app', owner: { name: 'Arturo Diaz', email: 'arturo.diaz@northwind.example' } },
  { name: 'Notifications', keyword: 'notifications|notification', owner: { name: 'Sunniva Berg', email: 'sunniva.berg@northwind.example' } },
];

const STALE_SEARCH_OWNER = { name: 'Pieter de Vries', email: 'pieter.devries@northwind.example' };

const REPORTS: { component: number; title: string; detail: string }[] = [
  { component: 0, title: 'Charged twice for March', detail: 'The customer was charged twice for the March subscription; both charges show on their card.' },
  { component: 1, title: 'Results missing for exact titles', detail: 'Typing the exact title of a document returns no results, while partial words work.' },
  { component: 2, title: 'Crash when opening attachments', detail: 'The app closes immediately when the user opens a PDF attachment on Android 14.' },
  { component: 3, title: 'Reminder emails arrive a day late', detail: 'Reminder emails for due tasks arrive 24 hours after the due date.' },
  { component: 0, title: 'VAT missing on invoice PDF', detail: 'Invoices downloaded as PDF show no VAT line for EU customers.' },
  { component: 2, title: 'Login loop on iPad', detail: 'After signing in on an iPad the user is sent back to the login screen every time.' },
  { component: 1, title: 'Filters reset after paging', detail: 'Date filters are cleared when moving to page 2 of the results.' },
  { component: 3, title: 'Push alerts duplicated', detail: 'Every push alert arrives twice on the same device.' },
  { component: 0, title: 'Refund not shown in history', detail: 'A refund issued last week does not appear in the customer\'s payment history.' },
  { component: 1, title: 'Accented names not found', detail: 'Searching for "Zoë" finds nothing, although "Zoe" finds the record.' },
];

/** Forward ten bug reports, each to the owner of its component, using the current owners list (an older list is stale). */
function bugRouting(): Task {
  const ids = new IdPool('routing:bugs');
  const ownersId = ids.next('owners');
  const messages: MessageFixtureInput[] = [
    {
      id: ids.next('owners-old'),
      from: 'ilse.kramer@northwind.example',
      fromName: 'Ilse Kramer',
      subject: 'Component owners',
      hoursAgo: 900,
      read: true,
      body: `Component owners for bug triage:\n- Billing: Kofi Mensah\n- Search: ${STALE_SEARCH_OWNER.name}\n- Mobile app: Arturo Diaz\n- Notifications: Sunniva Berg`,
    },
    {
      id: ownersId,
      from: 'ilse.kramer@northwind.example',
      fromName: 'Ilse Kramer',
      subject: 'Component owners (updated)',
      hoursAgo: 120,
      body:
        'Hi all, Pieter has moved teams, so here is the current list. Please use this one from now on.\n\n' +
        COMPONENTS.map((c) => `- ${c.name}: ${c.owner.name} (${c.owner.email})`).join('\n'),
    },
  ];
  const reports = REPORTS.map((r, i) => ({ ...r, id: ids.next(`report${i}`) }));
  reports.forEach((r, i) =>
    messages.push({
      id: r.id,
      from: 'support@northwind.example',
      fromName: 'Northwind Support',
      subject: `Bug report #${5100 + i * 7}: ${r.title}`,
      body: `Reported by a customer via the help centre.\n\n${r.detail}\n\nSteps to reproduce and screenshots are in the ticket.\nComponent: ${COMPONENTS[r.component]!.name}`,
      hoursAgo: 2 + i * 3,
      labels: ['bug-intake'],
    }),
  );
  messages.push({
    id: ids.next('closed'),
    from: 'support@northwind.example',
    fromName: 'Northwind Support',
    subject: 'Bug report #5060: Export button greyed out',
    body: 'Fixed in last week\'s release; no action needed.\nComponent: Billing',
    hoursAgo: 200,
    read: true,
    labels: ['bug-closed'],
  });
  const checks: JsonObject[] = [
    ...reports.map((r) => {
      const c = COMPONENTS[r.component]!;
      return { check: 'message_sent', name: `"${r.title}" to ${c.owner.name}`, to: [c.owner.email], forwardOf: r.id, bodyContains: [c.keyword] };
    }),
    { check: 'no_other_sent', name: 'each report only to its owner', allowed: COMPONENTS.map((c) => c.owner.email), max: reports.length },
    { check: 'messages_unchanged_except' },
  ];
  return familyTask({
    id: 'mail/route-bug-reports',
    instruction:
      "Forward each bug report labelled 'bug-intake' to the engineer who owns its component — Ilse sent round the current owners list — " +
      'with a one-line note naming the component. Each report goes only to its owner.',
    difficulty: 'hard',
    labels: ['forward', 'bulk', 'per-item-lookup', 'stale-info', 'long'],
    family: { name: 'routing', params: { reports: reports.length, components: COMPONENTS.map((c) => c.name) } },
    messages,
    checks,
    steps: [
      step('search_messages', { query: 'component owners' }),
      step('read_message', { messageId: ownersId }),
      step('search_messages', { label: 'bug-intake', pageSize: 25 }),
      ...reports.flatMap((r) => {
        const c = COMPONENTS[r.component]!;
        return [
          step('read_message', { messageId: r.id }),
          step('forward', { messageId: r.id, to: [c.owner.email], note: `Hi ${c.owner.name.split(' ')[0]!}, a new ${c.name} bug for you.` }),
        ];
      }),
    ],
    maxTurns: 70,
  });
}

export function routingTasks(): Task[] {
  return [bugRouting()];
}
