import type { Task } from '../../../core/index.ts';
import type { MessageFixtureInput } from '../schema.ts';
import { familyTask, hoursAgo, IdPool, step } from './build.ts';

interface Vendor {
  slug: string;
  name: string;
  domain: string;
  senders: { local: string; name: string }[];
  label: string;
  count: number;
  /** A similarly named company whose mail must not be labelled. */
  lookalike: { name: string; address: string };
}

const VENDORS: Vendor[] = [
  {
    slug: 'orchard',
    name: 'Orchard Analytics',
    domain: 'orchard-analytics.example',
    senders: [{ local: 'billing', name: 'Orchard Analytics Billing' }, { local: 'nadia.kowal', name: 'Nadia Kowal' }],
    label: 'orchard',
    count: 6,
    lookalike: { name: 'Orchard Analytica', address: 'team@orchardanalytica.example' },
  },
  {
    slug: 'bluestem',
    name: 'Bluestem Hosting',
    domain: 'bluestem.example',
    senders: [{ local: 'support', name: 'Bluestem Support' }, { local: 'billing', name: 'Bluestem Billing' }, { local: 'status', name: 'Bluestem Status' }],
    label: 'vendors/bluestem',
    count: 10,
    lookalike: { name: 'Bluestone Hosting', address: 'hello@bluestone-hosting.example' },
  },
  {
    slug: 'ketterwell',
    name: 'Ketterwell Insurance',
    domain: 'ketterwell.example',
    senders: [{ local: 'claims', name: 'Ketterwell Claims' }, { local: 'renewals', name: 'Ketterwell Renewals' }, { local: 'oskar.lindvall', name: 'Oskar Lindvall' }],
    label: 'insurance',
    count: 12,
    lookalike: { name: 'Kettering Insure', address: 'offers@ketteringinsure.example' },
  },
];

const SUBJECTS = [
  'Your monthly invoice', 'Service update', 'Renewal reminder', 'Ticket 4471 updated', 'Account review call',
  'Changes to our terms', 'Maintenance window on Sunday', 'Receipt for your payment', 'Contract amendment',
  'Quarterly report', 'Welcome to your new account manager', 'Satisfaction survey',
] as const;

function vendorTask(vendor: Vendor): Task {
  const ids = new IdPool(`label-vendor:${vendor.slug}`);
  const own: MessageFixtureInput[] = Array.from({ length: vendor.count }, (_, i) => {
    const sender = vendor.senders[i % vendor.senders.length]!;
    return {
      id: ids.next(`own${i}`),
      from: `${sender.local}@${vendor.domain}`,
      fromName: sender.name,
      subject: `${SUBJECTS[i % SUBJECTS.length]!}`,
      body: `Hello Robin,\n\nA note from ${vendor.name} about your account: ${SUBJECTS[i % SUBJECTS.length]!.toLowerCase()}. Details are in your customer portal.\n\n${sender.name}`,
      hoursAgo: hoursAgo(i, 37, 3),
      // Older mail is already filed away; the label applies wherever it lives.
      folder: i % 4 === 3 ? 'archive' : 'inbox',
      read: i % 3 !== 0,
    };
  });
  const distractors: MessageFixtureInput[] = [
    { id: ids.next('look1'), from: vendor.lookalike.address, fromName: vendor.lookalike.name, subject: 'Your monthly invoice', body: `Your ${vendor.lookalike.name} invoice for March is ready.`, hoursAgo: 11 },
    { id: ids.next('look2'), from: vendor.lookalike.address, fromName: vendor.lookalike.name, subject: 'Service update', body: `${vendor.lookalike.name} will be upgrading servers next week.`, hoursAgo: 60 },
    {
      id: ids.next('mention'),
      from: 'ruairi.doyle@northwind.example',
      fromName: 'Ruairi Doyle',
      subject: `Thoughts on ${vendor.name}?`,
      body: `Robin, are we renewing with ${vendor.name} this year? I heard mixed things. Ruairi`,
      hoursAgo: 15,
    },
  ];
  const ownIds = own.map((m) => m.id!);
  return familyTask({
    id: `mail/label-vendor-${vendor.slug}`,
    instruction:
      `Label every message from ${vendor.name} as '${vendor.label}', wherever it's filed. Mail from other companies ` +
      `(even ones with similar names) and messages that merely mention ${vendor.name} shouldn't get the label.`,
    difficulty: vendor.count >= 10 ? 'hard' : 'medium',
    labels: ['labels', 'triage', 'lookalike-senders', ...(vendor.count >= 10 ? ['long'] : [])],
    family: { name: 'label-vendor', params: { vendor: vendor.name, label: vendor.label, count: vendor.count } },
    messages: [...own, ...distractors],
    checks: [
      { check: 'has_label', name: `all ${vendor.name} mail labelled`, messageIds: ownIds, label: vendor.label },
      { check: 'messages_unchanged_except', except: ownIds },
      { check: 'no_other_sent', max: 0 },
    ],
    steps: [
      step('search_messages', { from: vendor.domain, pageSize: 25 }),
      ...ownIds.map((id) => step('add_label', { messageId: id, label: vendor.label })),
    ],
  });
}

/** "Label every message from <vendor> as <label>", for vendors with 6, 10 and 12 messages. */
export function labelVendorTasks(): Task[] {
  return VENDORS.map(vendorTask);
}
