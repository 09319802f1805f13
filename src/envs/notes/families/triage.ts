import { createRng, type JsonObject, type Task, type ToolInvocation } from '../../../core/index.ts';
import type { RowFixture } from '../fixtures.ts';
import { CUSTOMERS } from '../seed-data.ts';
import { email, nameOf, notesTask, pad, step } from './common.ts';

const AREAS = ['Billing', 'Reporting', 'Integrations', 'Mobile app', 'Permissions', 'Performance'] as const;
type Area = (typeof AREAS)[number];

const QUOTES: Record<Area, string[]> = {
  Billing: ['We were charged twice for the annual plan this month.', 'The invoice shows the wrong VAT number for our company.', 'Our card was declined but the subscription still renewed.'],
  Reporting: ['The monthly report export to CSV stops after 10,000 rows.', 'Scheduled reports arrive with last week\'s numbers.', 'We need a chart of tasks closed per assignee in the reports.'],
  Integrations: ['The Salesforce sync stopped pushing contacts after the update.', 'Our Zapier webhook fires twice for every new record.', 'Please add a two-way sync with Jira.'],
  'Mobile app': ['The iOS app logs me out every time I switch networks.', 'On Android the app crashes when I attach a photo.', 'Push notifications on the phone app arrive hours late.'],
  Permissions: ['We need a role that can view projects but not edit them.', 'Guests can see the member list, which they should not.', 'Admins cannot remove a user who left the company.'],
  Performance: ['Dashboards take over 20 seconds to load for our largest workspace.', 'Search is very slow once a project has many files.', 'Saving a large document spins for a minute.'],
};

/** Thirty feedback rows, twenty untagged: tag each with the areas its quote is about (one or two). */
function feedbackTask(): Task {
  const rng = createRng('notes:tag-customer-feedback');
  const rows: RowFixture[] = [];
  const expected: Record<string, Area[]> = {};
  for (let i = 0; i < 30; i++) {
    const id = `fb-${pad(i + 1)}`;
    const areas = (rng.next() < 0.35 ? rng.shuffle(AREAS).slice(0, 2) : [rng.pick(AREAS)]) as Area[];
    const customer = CUSTOMERS[i % CUSTOMERS.length]!;
    const tagged = i % 3 === 2;
    rows.push({
      id,
      title: `Feedback from ${customer} (ticket #${4100 + i * 7})`,
      values: { Customer: customer, Area: tagged ? areas : [], Received: `2026-03-${pad(1 + (i % 14))}`, Priority: rng.pick(['Low', 'Medium', 'High']) },
      blocks: areas.map((a) => `"${rng.pick(QUOTES[a])}"`).concat([`Source: support ticket #${4100 + i * 7}`]),
    });
    if (!tagged) expected[id] = areas;
  }
  const steps: ToolInvocation[] = [step('query_database', { database_id: 'db-feedback', filter: [{ property: 'Area', operator: 'is_empty' }], limit: 25 })];
  for (const [id, areas] of Object.entries(expected)) steps.push(step('get_page', { page_id: id }), step('update_row', { row_id: id, properties: { Area: areas } }));
  steps.push(step('submit', {}));
  return notesTask({
    slug: 'tag-customer-feedback',
    instruction: 'Triage the "Customer feedback" database: every row with no Area yet should get the product area(s) its feedback is about, using the existing Area options (a row can have more than one). Rows that already have an Area are done.',
    difficulty: 'hard',
    labels: ['database', 'bulk-update', 'classification', 'long-horizon'],
    fixtures: {
      databases: [
        {
          id: 'db-feedback',
          parent: 'projects',
          title: 'Customer feedback',
          schema: { Customer: { type: 'text' }, Area: { type: 'multi_select', options: [...AREAS] }, Received: { type: 'date' }, Priority: { type: 'select', options: ['Low', 'Medium', 'High'] } },
          rows,
        },
      ],
    },
    checks: [...Object.entries(expected).map(([id, areas]) => ({ check: 'row_values', name: `${id} area`, row_id: id, values: { Area: areas } })), { check: 'workspace_unchanged', may_change: Object.keys(expected) }],
    steps,
    family: { name: 'tag-customer-feedback', params: { rows: 30, untagged: Object.keys(expected).length } },
  });
}

const HIRES = ['Mateo Alvarez', 'Freya Lindgren', 'Tunde Adeyemi', 'Yuki Tanaka', 'Clara Dubois', 'Ravi Kulkarni', 'Ines Moreau', 'Ben Okoro', 'Leah Goldberg', 'Piotr Nowak', 'Maya Fischer', 'Arjun Desai', 'Sofia Romano'];
const BUDDIES = ['u-priya', 'u-marcus', 'u-hana', 'u-tomas', 'u-devika', 'u-chen', 'u-kofi', 'u-lucia', 'u-oliver', 'u-aisha'];
const TEMPLATE = ['Collect your laptop from IT', 'Set up your hardware security key', 'Read the engineering handbook', 'Have lunch with your buddy', 'Ship a small first change'];
const TEMPLATE_KEYS = ['laptop', 'security key', 'handbook', 'lunch', 'first change'];

/** Thirteen hires, ten starting in April: one onboarding page each from the template, then tick their row. */
function onboardingTask(): Task {
  const rng = createRng('notes:onboarding-pages-for-april');
  const rows: RowFixture[] = [];
  const april: { id: string; name: string; buddy: string }[] = [];
  HIRES.forEach((name, i) => {
    const id = `hire-${pad(i + 1)}`;
    const inApril = i % 4 !== 3;
    const start = inApril ? `2026-04-${pad(1 + ((i * 3) % 28))}` : rng.pick(['2026-03-23', '2026-05-04', '2026-05-18']);
    const buddy = BUDDIES[i % BUDDIES.length]!;
    rows.push({ id, title: name, values: { 'Start date': start, Team: rng.pick(['Engineering', 'Design', 'Data', 'Operations']), Buddy: email(buddy), 'Onboarding page': false } });
    if (inApril) april.push({ id, name, buddy });
  });
  const steps: ToolInvocation[] = [
    step('query_database', { database_id: 'db-hires', filter: [{ property: 'Start date', operator: 'on_or_after', value: '2026-04-01' }, { property: 'Start date', operator: 'on_or_before', value: '2026-04-30' }], limit: 25 }),
    step('get_page', { page_id: 'onb-template' }),
  ];
  for (const h of april) {
    const blocks = [{ type: 'paragraph', text: `Buddy: ${nameOf(h.buddy)}` }, { type: 'heading', text: 'Week one' }, ...TEMPLATE.map((t) => ({ type: 'todo', text: t }))];
    steps.push(step('create_page', { parent_id: 'onboarding', title: `Onboarding: ${h.name}`, blocks }), step('update_row', { row_id: h.id, properties: { 'Onboarding page': true } }));
  }
  steps.push(step('submit', {}));
  const checks: JsonObject[] = april.flatMap((h): JsonObject[] => [
    { check: 'page_exists', name: `page for ${h.name}`, title: `Onboarding: ${h.name}`, parent_id: 'onboarding', keywords: [nameOf(h.buddy)], todos: TEMPLATE_KEYS.map((k) => ({ contains: [k], checked: false })) },
    { check: 'row_values', name: `${h.name} ticked`, row_id: h.id, values: { 'Onboarding page': true } },
  ]);
  checks.push({ check: 'workspace_unchanged', may_change: april.map((h) => h.id), may_create_under: ['onboarding'], max_created: april.length });
  return notesTask({
    slug: 'onboarding-pages-for-april',
    instruction:
      'For every new hire in "New hires — spring 2026" who starts in April 2026, create an onboarding page under "Onboarding — new starters" titled "Onboarding: <their full name>", with a line naming their buddy and the five checklist items from the Onboarding template as unchecked todos. Then tick "Onboarding page" on their row.',
    difficulty: 'hard',
    labels: ['create', 'database', 'template', 'long-horizon'],
    fixtures: {
      pages: [
        { id: 'onboarding', parent: 'wiki', title: 'Onboarding — new starters', blocks: ['One page per new starter, made from the template.'], age_days: 60 },
        { id: 'onb-template', parent: 'onboarding', title: 'Onboarding template', blocks: ['Buddy: <name>', '# Week one', ...TEMPLATE.map((t) => `[ ] ${t}`)], age_days: 60 },
      ],
      databases: [
        {
          id: 'db-hires',
          parent: 'wiki',
          title: 'New hires — spring 2026',
          schema: { 'Start date': { type: 'date' }, Team: { type: 'select', options: ['Engineering', 'Design', 'Data', 'Operations'] }, Buddy: { type: 'person' }, 'Onboarding page': { type: 'checkbox' } },
          rows,
        },
      ],
    },
    checks,
    steps,
    family: { name: 'onboarding-pages-for-april', params: { hires: HIRES.length, april: april.length } },
  });
}

export function triageTasks(): Task[] {
  return [feedbackTask(), onboardingTask()];
}
