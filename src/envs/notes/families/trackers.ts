import { createRng, type JsonObject, type Task } from '../../../core/index.ts';
import type { RowFixture } from '../fixtures.ts';
import { COLLEAGUE_IDS } from '../seed-data.ts';
import { email, notesTask, pad, step } from './common.ts';

const STATUSES = ['Not started', 'In progress', 'Blocked', 'Done'] as const;
type Status = (typeof STATUSES)[number];

const FACTS: Record<Status, string[]> = {
  Done: ['Shipped to every customer; monitoring has been clean since.', 'Rolled out fully and QA signed off.', 'Finished and announced in the changelog.', 'Live in production for all workspaces.'],
  Blocked: [
    'Waiting on Legal to approve the data processing addendum before we can continue.',
    'On hold until the payments vendor fixes their sandbox outage.',
    'Cannot proceed: blocked by the SSO migration.',
    'Stalled: needs a security review that nobody has scheduled yet.',
  ],
  'In progress': ['About half of the screens are built; design review next week.', 'Implementation underway, first pull request merged.', 'In QA now with two bugs left to fix.', 'Backfill is running and roughly 60% complete.'],
  'Not started': ['Nobody has picked this up yet; planned for next sprint.', 'Scoped, but no work has begun.', 'Not started: the owner is still finishing the previous project.'],
};

const LAUNCH_ITEMS = ['Self-serve upgrade flow', 'Annual plan discount', 'In-app product tour', 'Billing email templates', 'Usage alerts', 'Team invites revamp', 'Pricing page A/B test', 'Referral credits', 'Tax ID collection', 'Invoice PDF redesign', 'Trial extension flow', 'Seat-based pricing', 'Plan comparison table', 'Cancellation survey', 'Dunning emails', 'Coupon codes', 'Checkout localisation', 'Receipt emails', 'Upgrade nudges', 'Admin billing roles'];
const MIGRATION_ITEMS = ['Events table backfill', 'Warehouse access roles', 'Revenue model port', 'Churn model port', 'Nightly export job', 'Dashboard cut-over', 'Legacy cron shutdown', 'PII column tagging', 'Cost monitoring alerts', 'Schema registry', 'Data contracts for billing', 'Sessionisation job', 'Attribution model port', 'Backfill validation', 'Query performance audit', 'Row-level security', 'Data catalogue entries', 'Retention policy jobs', 'Reverse ETL to CRM', 'Finance reconciliation views'];

interface TrackerVariant {
  slug: string;
  title: string;
  dbId: string;
  prefix: string;
  items: string[];
  withEvent: boolean;
}

const VARIANTS: TrackerVariant[] = [
  { slug: 'tracker-status-from-updates', title: 'Q2 launch tracker', dbId: 'db-launch-q2', prefix: 'launch', items: LAUNCH_ITEMS, withEvent: false },
  { slug: 'migration-status-from-updates', title: 'Data platform migration tracker', dbId: 'db-migration', prefix: 'mig', items: MIGRATION_ITEMS, withEvent: true },
];

/** Twenty rows whose Status is stale; each row page has dated updates in shuffled order, the newest decides. */
function trackerTask(v: TrackerVariant): Task {
  const rng = createRng(`notes:${v.slug}`);
  const rows: RowFixture[] = [];
  const expected: Record<string, Status> = {};
  v.items.forEach((item, i) => {
    const id = `${v.prefix}-${pad(i + 1)}`;
    const target = STATUSES[i % STATUSES.length]!;
    const stale = rng.pick(STATUSES.filter((s) => s !== target));
    const older = rng.pick(STATUSES.filter((s) => s !== target));
    const latestDay = `2026-03-${pad(rng.int(9, 14))}`;
    const olderDay = `2026-02-${pad(rng.int(10, 27))}`;
    const updates = [
      ['# Update ' + latestDay, rng.pick(FACTS[target])],
      ['# Update ' + olderDay, rng.pick(FACTS[older])],
    ];
    const ordered = rng.next() < 0.5 ? updates : updates.reverse();
    rows.push({
      id,
      title: item,
      values: { Status: stale, Owner: email(rng.pick(COLLEAGUE_IDS)), Due: `2026-0${rng.int(4, 7)}-${pad(rng.int(1, 28))}` },
      blocks: [`Goal: ${item.toLowerCase()} for the spring release.`, ...ordered.flat(), '- Slack channel: #proj-' + v.prefix],
      age_days: 10,
    });
    expected[id] = target;
  });
  const eventRow = `${v.prefix}-05`;
  const world: JsonObject = v.withEvent ? { schedule: [{ event: 'page_edited_by_colleague', afterCalls: 4, params: { author: 'u-marcus', row_id: eventRow, values: { Owner: email('u-kofi') } } }] } : {};
  const checks: JsonObject[] = Object.entries(expected).map(([id, status]) => ({
    check: 'row_values',
    name: `${id} status`,
    row_id: id,
    values: { Status: status, ...(v.withEvent && id === eventRow ? { Owner: email('u-kofi') } : {}) },
  }));
  checks.push({ check: 'workspace_unchanged', may_change: Object.keys(expected) });
  const steps = [step('query_database', { database_id: v.dbId, limit: 25 })];
  for (const [id, status] of Object.entries(expected)) steps.push(step('get_page', { page_id: id }), step('update_row', { row_id: id, properties: { Status: status } }));
  steps.push(step('submit', {}));
  return notesTask({
    slug: v.slug,
    instruction: `The Status column of the "${v.title}" database is out of date. Every item's page has dated updates; set each row's Status (Not started, In progress, Blocked or Done) to match its most recent update. Don't change anything else.${v.withEvent ? ' Teammates are editing the tracker at the same time, so leave their changes in place.' : ''}`,
    difficulty: 'hard',
    labels: ['database', 'bulk-update', 'reading', 'long-horizon', ...(v.withEvent ? ['world-event'] : [])],
    fixtures: {
      databases: [
        {
          id: v.dbId,
          parent: 'projects',
          title: v.title,
          blocks: ['Status reflects the latest written update on each item page.'],
          schema: { Status: { type: 'select', options: [...STATUSES] }, Owner: { type: 'person' }, Due: { type: 'date' } },
          rows,
        },
      ],
    },
    world,
    checks,
    steps,
    family: { name: 'tracker-status-from-updates', params: { variant: v.slug, rows: rows.length } },
  });
}

const KRS = ['Trial-to-paid conversion at 12%', '600 new paying workspaces', 'Pages per week below 5', 'p95 search latency under 300 ms', 'Onboarding completion at 70%', 'Support first reply under 2 hours', 'Churn in SMB below 2.5%', 'Net revenue retention at 108%', 'Activation email open rate at 45%', 'Mobile crash-free sessions at 99.7%', 'Self-serve upgrades at 300 per month', 'Docs satisfaction score at 4.5'];
const CONFIDENCE = ['On track', 'At risk', 'Off track'] as const;
const REASONS: Record<(typeof CONFIDENCE)[number], string> = { 'On track': 'on track', 'At risk': 'at risk because of a hiring delay', 'Off track': 'off track after the vendor slipped' };

/** KR rows whose Progress and Confidence must follow the newest of several dated check-ins. */
function okrTask(): Task {
  const rng = createRng('notes:okr-progress-rollup');
  const rows: RowFixture[] = [];
  const expected: Record<string, { Progress: number; Confidence: string }> = {};
  KRS.forEach((kr, i) => {
    const id = `kr-${pad(i + 1)}`;
    const days = ['2026-01-19', '2026-02-09', '2026-03-02', '2026-03-13'].slice(0, rng.int(2, 5));
    let progress = rng.int(5, 25);
    const checkins = days.map((day) => {
      progress += rng.int(5, 20);
      const confidence = rng.pick(CONFIDENCE);
      return { day, progress: Math.min(progress, 100), confidence };
    });
    const latest = checkins[checkins.length - 1]!;
    const first = checkins[0]!;
    rows.push({
      id,
      title: kr,
      values: { Objective: rng.pick(['Grow self-serve revenue', 'A calmer on-call', 'Faster onboarding']), Progress: first.progress, Confidence: first.confidence, Owner: email(rng.pick(COLLEAGUE_IDS)) },
      blocks: ['# Check-ins', ...rng.shuffle(checkins).map((c) => `- ${c.day}: ${c.progress}% done, ${REASONS[c.confidence]}.`)],
    });
    expected[id] = { Progress: latest.progress, Confidence: latest.confidence };
  });
  const steps = [step('query_database', { database_id: 'db-krs', limit: 25 })];
  for (const [id, values] of Object.entries(expected)) steps.push(step('get_page', { page_id: id }), step('update_row', { row_id: id, properties: values }));
  steps.push(step('submit', {}));
  return notesTask({
    slug: 'okr-progress-rollup',
    instruction:
      'Before the OKR review, bring the "Q1 2026 key results" database up to date: for every key result, set Progress (a number, the percent done) and Confidence to what its most recent check-in says. The check-ins are listed on each key result\'s page, not always in date order.',
    difficulty: 'hard',
    labels: ['database', 'bulk-update', 'reading', 'long-horizon'],
    fixtures: {
      databases: [
        {
          id: 'db-krs',
          parent: 'okrs',
          title: 'Q1 2026 key results',
          schema: {
            Objective: { type: 'select', options: ['Grow self-serve revenue', 'A calmer on-call', 'Faster onboarding'] },
            Progress: { type: 'number' },
            Confidence: { type: 'select', options: [...CONFIDENCE] },
            Owner: { type: 'person' },
          },
          rows,
        },
      ],
    },
    checks: [...Object.entries(expected).map(([id, values]) => ({ check: 'row_values', name: `${id} progress`, row_id: id, values })), { check: 'workspace_unchanged', may_change: Object.keys(expected) }],
    steps,
    family: { name: 'okr-progress-rollup', params: { rows: rows.length } },
  });
}

export function trackerTasks(): Task[] {
  return [...VARIANTS.map(trackerTask), okrTask()];
}
