import { createRng, type Task, type ToolInvocation } from '../../../core/index.ts';
import type { BlockFixture, RowFixture } from '../fixtures.ts';
import { encodeCursor } from '../view.ts';
import { email, nameOf, notesTask, pad, step } from './common.ts';

const BACKLOG = ['Rotate database credentials', 'Upgrade the queue library', 'Split the auth service', 'Add request tracing', 'Retire the v1 API', 'Shard the events table', 'Harden the file uploader', 'Cache warm-up on deploy', 'Move cron jobs to the scheduler', 'Faster CI test shards', 'Secrets scanning in CI', 'Blue-green deploys for workers', 'Read replicas for reporting', 'Rate limits per API key', 'Zero-downtime migrations', 'Alert deduplication', 'Remove the legacy CDN', 'Pin base images', 'Log retention tiers', 'Connection pool tuning'];

/** A departed owner's unfinished rows move to a named colleague; finished ones keep their history. */
function reassignTask(): Task {
  const rng = createRng('notes:reassign-departed-owner');
  const rows: RowFixture[] = [];
  const moved: string[] = [];
  BACKLOG.forEach((title, i) => {
    const id = `plat-${pad(i + 1)}`;
    const marcus = i % 3 !== 2;
    const status = marcus ? (i % 5 === 4 ? 'Done' : rng.pick(['Todo', 'In progress', 'In review'])) : rng.pick(['Todo', 'In progress', 'Done']);
    rows.push({ id, title, values: { Owner: email(marcus ? 'u-marcus' : rng.pick(['u-priya', 'u-tomas', 'u-kofi'])), Status: status, Estimate: rng.int(1, 8) } });
    if (marcus && status !== 'Done') moved.push(id);
  });
  const steps: ToolInvocation[] = [
    step('query_database', { database_id: 'db-platform', filter: [{ property: 'Owner', operator: 'equals', value: email('u-marcus') }, { property: 'Status', operator: 'not_equals', value: 'Done' }], limit: 25 }),
    ...moved.map((id) => step('update_row', { row_id: id, properties: { Owner: email('u-chen') } })),
    step('submit', {}),
  ];
  const doneMarcus = rows.filter((r) => r.values?.Owner === email('u-marcus') && r.values.Status === 'Done').map((r) => r.id);
  return notesTask({
    slug: 'reassign-departed-owner',
    instruction: 'Marcus Lindqvist has moved to another team. In the "Platform backlog" database, give every row he owns that isn\'t Done to Chen Wei. His finished rows stay as they are.',
    difficulty: 'medium',
    labels: ['database', 'filter', 'bulk-update'],
    fixtures: {
      databases: [
        {
          id: 'db-platform',
          parent: 'projects',
          title: 'Platform backlog',
          schema: { Owner: { type: 'person' }, Status: { type: 'select', options: ['Todo', 'In progress', 'In review', 'Done'] }, Estimate: { type: 'number' } },
          rows,
        },
      ],
    },
    checks: [
      ...moved.map((id) => ({ check: 'row_values', name: `${id} owner`, row_id: id, values: { Owner: email('u-chen') } })),
      ...doneMarcus.map((id) => ({ check: 'row_values', name: `${id} stays`, row_id: id, values: { Owner: email('u-marcus'), Status: 'Done' } })),
      { check: 'workspace_unchanged', may_change: moved },
    ],
    steps,
    family: { name: 'reassign-departed-owner', params: { moved: moved.length } },
  });
}

const CHECKLIST: [string, string, boolean][] = [
  ['Freeze the release branch', 'Branch frozen on Monday', true],
  ['Run the full regression suite', 'Regression suite green', true],
  ['Update the API changelog', 'API changelog published', true],
  ['Translate release notes', 'translations still pending', false],
  ['Notify enterprise customers', 'Enterprise customers emailed', true],
  ['Prepare the status page notice', 'Status page notice drafted', true],
  ['Check database migration timings', 'Migration timings measured (4 min)', true],
  ['Sign off security review', 'security review booked for Thursday', false],
  ['Update in-app announcements', 'In-app announcement live', true],
  ['Brief the support team', 'Support team briefed', true],
  ['Tag the release in git', 'Tagged v4.2.0', true],
  ['Record the demo for sales', 'demo not recorded yet', false],
  ['Warm the caches after deploy', 'cache warm-up scripted and tested', true],
  ['Schedule the retrospective', 'retro not scheduled', false],
];

/** Tick the checklist items a separate status report says are complete. */
function checklistTask(): Task {
  const todoBlocks: BlockFixture[] = CHECKLIST.map(([item], i) => ({ id: `rel-todo-${pad(i + 1)}`, type: 'todo', text: item }));
  const done = CHECKLIST.map((c, i) => ({ id: `rel-todo-${pad(i + 1)}`, done: c[2] }));
  const report = ['# Completed', ...CHECKLIST.filter((c) => c[2]).map((c) => `- ${c[1]}`), '# Open', ...CHECKLIST.filter((c) => !c[2]).map((c) => `- ${c[1]}`)];
  const steps: ToolInvocation[] = [
    step('get_page', { page_id: 'rel-status' }),
    step('get_page', { page_id: 'rel-checklist' }),
    ...done.filter((d) => d.done).map((d) => step('update_block', { block_id: d.id, checked: true })),
    step('submit', {}),
  ];
  return notesTask({
    slug: 'sync-release-checklist',
    instruction: 'Tick off everything on the "Release 4.2 checklist" that the "Release 4.2 status report" says is complete. Leave open items unchecked.',
    difficulty: 'medium',
    labels: ['todos', 'reading', 'bulk-update'],
    fixtures: {
      pages: [
        { id: 'rel-checklist', parent: 'projects', title: 'Release 4.2 checklist', blocks: ['Owner: Release captain', ...todoBlocks] },
        { id: 'rel-status', parent: 'projects', title: 'Release 4.2 status report', blocks: report, author: 'u-tomas', age_days: 1 },
        { id: 'rel-checklist-old', parent: 'projects', title: 'Release 4.1 checklist', blocks: CHECKLIST.map(([item]) => `[x] ${item}`), age_days: 40 },
      ],
    },
    checks: [...done.map((d) => ({ check: 'block_state', name: `${d.id}`, block_id: d.id, checked: d.done })), { check: 'workspace_unchanged', may_edit_content: ['rel-checklist'] }],
    steps,
    family: { name: 'sync-release-checklist', params: { items: CHECKLIST.length } },
  });
}

const WEBINARS = ['Getting started with automations', 'Reporting deep dive', 'Admin essentials', 'Security for admins', 'API office hours', 'Templates showcase', 'Mobile tips', 'Migrating from spreadsheets', 'Integrations tour', 'Billing and plans Q&A', 'Power user shortcuts', 'Team onboarding clinic', 'Roadmap preview', 'Customer story: Tidewater', 'Data exports explained', 'Accessibility features'];

/** Rows imported with the wrong year: fix the 2025 dates to 2026, leave the rest. */
function fixYearsTask(): Task {
  const rng = createRng('notes:fix-webinar-years');
  const rows: RowFixture[] = [];
  const fixes: Record<string, string> = {};
  WEBINARS.forEach((title, i) => {
    const id = `web-${pad(i + 1)}`;
    const date = `2026-${pad(4 + (i % 3))}-${pad(rng.int(1, 29))}`;
    const wrong = i % 8 < 5;
    rows.push({ id, title, values: { Date: wrong ? date.replace('2026', '2025') : date, Host: email(rng.pick(['u-lucia', 'u-jonah', 'u-ingrid'])), Registrations: rng.int(20, 400) } });
    if (wrong) fixes[id] = date;
  });
  const steps: ToolInvocation[] = [
    step('query_database', { database_id: 'db-webinars', filter: [{ property: 'Date', operator: 'on_or_before', value: '2025-12-31' }], limit: 25 }),
    ...Object.entries(fixes).map(([id, date]) => step('update_row', { row_id: id, properties: { Date: date } })),
    step('submit', {}),
  ];
  return notesTask({
    slug: 'fix-webinar-years',
    instruction: 'The "Webinar schedule" was imported with the wrong year: every session dated in 2025 actually takes place in 2026 on the same month and day. Fix those dates.',
    difficulty: 'medium',
    labels: ['database', 'dates', 'bulk-update'],
    fixtures: {
      databases: [
        { id: 'db-webinars', parent: 'projects', title: 'Webinar schedule', schema: { Date: { type: 'date' }, Host: { type: 'person' }, Registrations: { type: 'number' } }, rows },
      ],
    },
    checks: [...Object.entries(fixes).map(([id, date]) => ({ check: 'row_values', name: `${id} date`, row_id: id, values: { Date: date } })), { check: 'workspace_unchanged', may_change: Object.keys(fixes) }],
    steps,
    family: { name: 'fix-webinar-years', params: { fixes: Object.keys(fixes).length } },
  });
}

const RFC: { text: string; comment: string; addressed: boolean; author: string }[] = [
  { text: 'The index is refreshed every 5 minutes from the change stream.', comment: 'Please state how often the index is refreshed.', addressed: true, author: 'u-priya' },
  { text: 'Deleted documents disappear from results within one refresh cycle.', comment: 'What happens to deleted documents?', addressed: true, author: 'u-sam-w' },
  { text: 'We shard by workspace id, 16 shards to start.', comment: 'How many shards do we start with?', addressed: true, author: 'u-kofi' },
  { text: 'Ranking uses BM25 with a recency boost.', comment: 'Add an evaluation plan with offline relevance metrics.', addressed: false, author: 'u-devika' },
  { text: 'Permissions are checked at query time against the ACL cache.', comment: 'Where are permissions enforced — index time or query time?', addressed: true, author: 'u-sam-w' },
  { text: 'Rollout goes workspace by workspace behind a flag.', comment: 'Include the rollback steps if relevance drops.', addressed: false, author: 'u-ingrid' },
  { text: 'Storage grows by about 30% compared with v1.', comment: 'Please give the expected storage growth.', addressed: true, author: 'u-elena' },
  { text: 'Synonyms are out of scope for this version.', comment: 'Estimate the cost of the extra search nodes per month.', addressed: false, author: 'u-elena' },
];

/** Resolve the comments the text already answers; reply to the rest on their block. */
function rfcCommentsTask(): Task {
  const blocks: BlockFixture[] = ['# Summary', 'Search indexing v2 replaces nightly batch indexing with a streaming pipeline.', '# Design', ...RFC.map((r, i) => ({ id: `rfc-b${i + 1}`, type: 'paragraph' as const, text: r.text }))];
  const comments = RFC.map((r, i) => ({ id: `rfc-c${i + 1}`, author: r.author, text: r.comment, block: `rfc-b${i + 1}` }));
  const resolved = RFC.flatMap((r, i) => (r.addressed ? [`rfc-c${i + 1}`] : []));
  const open = RFC.flatMap((r, i) => (r.addressed ? [] : [i + 1]));
  const steps: ToolInvocation[] = [
    step('search', { query: 'search indexing v2' }),
    step('get_page', { page_id: 'rfc-search' }),
    ...resolved.map((id) => step('resolve_comment', { comment_id: id })),
    ...open.map((i) => step('add_comment', { block_id: `rfc-b${i}`, text: "Not covered yet — I'll follow up with an update to the RFC." })),
    step('submit', {}),
  ];
  return notesTask({
    slug: 'resolve-answered-rfc-comments',
    instruction:
      'On the "RFC: search indexing v2" page, resolve every open comment whose question or request the RFC text already answers. For each comment that is not yet addressed, leave it open and reply on the same block that you will follow up.',
    difficulty: 'medium',
    labels: ['comments', 'reading'],
    fixtures: {
      pages: [
        { id: 'rfc-search', parent: 'wiki', title: 'RFC: search indexing v2', blocks, comments, author: 'u-chen' },
        { id: 'rfc-search-v1', parent: 'wiki', title: 'RFC: search indexing v1', blocks: ['Nightly batch indexing.'], age_days: 300, author: 'u-chen' },
      ],
    },
    checks: [
      { check: 'comment_resolved', name: 'answered comments resolved', comment_ids: resolved },
      { check: 'comment_resolved', name: 'open comments stay open', comment_ids: open.map((i) => `rfc-c${i}`), resolved: false },
      ...open.map((i) => ({ check: 'comment_exists', name: `reply on rfc-b${i}`, block_id: `rfc-b${i}`, any_of: [['follow']] })),
      { check: 'workspace_unchanged', may_comment: ['rfc-search'] },
    ],
    steps,
    family: { name: 'resolve-answered-rfc-comments', params: { comments: RFC.length } },
  });
}

/** Forty-five spend requests; the total of approved Q2 ones needs more than one page of results. */
function spendTask(): Task {
  const rng = createRng('notes:approved-q2-spend');
  const vendors = ['Copperline Print', 'Northgate Cloud', 'Juniper Events', 'Fablewood Studio', 'Pinecrest Legal', 'Ironbark Hosting', 'Saltmarsh Translations', 'Alder & Finch Consulting'];
  const rows: RowFixture[] = [];
  let total = 0;
  let count = 0;
  for (let i = 0; i < 45; i++) {
    const status = i % 3 === 1 ? rng.pick(['Pending', 'Rejected']) : 'Approved';
    const quarter = i % 5 === 4 ? 'Q1 2026' : 'Q2 2026';
    const amount = rng.int(8, 120) * 50;
    if (status === 'Approved' && quarter === 'Q2 2026') {
      total += amount;
      count++;
    }
    rows.push({ id: `spend-${pad(i + 1)}`, title: `${vendors[i % vendors.length]} — request ${i + 1}`, values: { Amount: amount, Status: status, Quarter: quarter, Requester: email(rng.pick(['u-lucia', 'u-oliver', 'u-elena', 'u-aisha'])) } });
  }
  const filter = [{ property: 'Status', operator: 'equals', value: 'Approved' }, { property: 'Quarter', operator: 'equals', value: 'Q2 2026' }];
  const answer = `Approved Q2 2026 spend totals ${total} across ${count} requests.`;
  return notesTask({
    slug: 'approved-q2-spend',
    instruction: 'Finance needs a number: what is the total Amount of all Approved requests for Q2 2026 in the "Vendor spend requests" database? Reply with the total.',
    difficulty: 'medium',
    labels: ['database', 'pagination', 'question'],
    fixtures: {
      databases: [
        {
          id: 'db-spend',
          parent: 'projects',
          title: 'Vendor spend requests',
          schema: { Amount: { type: 'number' }, Status: { type: 'select', options: ['Pending', 'Approved', 'Rejected'] }, Quarter: { type: 'select', options: ['Q1 2026', 'Q2 2026'] }, Requester: { type: 'person' } },
          rows,
        },
      ],
    },
    checks: [{ check: 'answer_contains', values: [String(total)] }, { check: 'workspace_unchanged' }],
    steps: [
      step('query_database', { database_id: 'db-spend', filter, limit: 25 }),
      step('query_database', { database_id: 'db-spend', filter, limit: 25, cursor: encodeCursor('query_database', 25) }),
      step('submit', { answer }),
    ],
    answer,
    family: { name: 'approved-q2-spend', params: { rows: 45, matching: count } },
  });
}

/** A 70-block postmortem whose follow-up owned by Chen sits past the first screen of blocks. */
function postmortemTask(): Task {
  const rng = createRng('notes:postmortem-follow-up');
  const timeline: BlockFixture[] = [];
  for (let i = 0; i < 48; i++) timeline.push(`- 14:${pad(i)} UTC — ${rng.pick(['error rate climbs on checkout', 'on-call acknowledges the page', 'rollback started', 'payments provider returns 502s', 'traffic shifted to the secondary region', 'cache hit rate drops', 'status page updated'])}`);
  const followUps = [
    `[ ] ${nameOf('u-priya')}: add a synthetic checkout probe (due 2026-03-20)`,
    `[ ] ${nameOf('u-tomas')}: document the manual failover (due 2026-03-27)`,
    `[ ] ${nameOf('u-chen')}: add circuit breakers to the payments client (due 2026-04-03)`,
    `[ ] ${nameOf('u-kofi')}: alert on 502 rate per provider (due 2026-03-24)`,
  ];
  const blocks: BlockFixture[] = ['# Summary', 'Checkout failed for 38 minutes on 2026-02-27 when the payments provider degraded.', '# Timeline', ...timeline, '# Root cause', 'The payments client retried without backoff and exhausted the connection pool.', '# What went well', '- Rollback was fast', '- Status page was updated within 10 minutes', '# What went badly', '- No alert on provider errors', '- Failover steps were not written down', '# Follow-ups', ...followUps];
  const answer = 'Chen Wei owns adding circuit breakers to the payments client, due 2026-04-03.';
  return notesTask({
    slug: 'postmortem-follow-up',
    instruction: 'In the postmortem for the checkout outage, which follow-up is Chen Wei responsible for, and when is it due?',
    difficulty: 'medium',
    labels: ['long-page', 'question', 'reading'],
    fixtures: {
      pages: [
        { id: 'pm-checkout', parent: 'wiki', title: 'Postmortem: checkout outage 2026-02-27', blocks, author: 'u-tomas', age_days: 12 },
        { id: 'pm-search', parent: 'wiki', title: 'Postmortem: search outage 2025-11-03', blocks: ['# Follow-ups', `[x] ${nameOf('u-chen')}: add a search latency alert (due 2025-11-20)`], author: 'u-tomas', age_days: 120 },
      ],
    },
    checks: [{ check: 'answer_contains', values: ['circuit breaker', '2026-04-03'] }, { check: 'answer_excludes', values: ['2025-11-20'] }, { check: 'workspace_unchanged' }],
    steps: [step('search', { query: 'postmortem checkout outage' }), step('get_page', { page_id: 'pm-checkout', limit: 50 }), step('get_page', { page_id: 'pm-checkout', offset: 50, limit: 50 }), step('submit', { answer })],
    answer,
  });
}

export function mediumTasks(): Task[] {
  return [reassignTask(), checklistTask(), fixYearsTask(), rfcCommentsTask(), spendTask(), postmortemTask()];
}

