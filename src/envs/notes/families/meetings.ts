import { createRng, type JsonObject, type Task, type ToolInvocation } from '../../../core/index.ts';
import type { PageFixture } from '../fixtures.ts';
import { encodeCursor } from '../view.ts';
import { addDays, email, nameOf, notesTask, pad, step } from './common.ts';

const ACTIONS: [string, string][] = [
  ['Finalise the launch blog post', 'blog post'],
  ['Record the product demo video', 'demo video'],
  ['Update the status page template', 'status page'],
  ['Brief the support team on the new plans', 'support team'],
  ['Confirm the press embargo time', 'embargo'],
  ['Translate the pricing page into German', 'German'],
  ['Prepare the sales one-pager', 'one-pager'],
  ['Set up the launch dashboard', 'launch dashboard'],
  ['Schedule the social posts', 'social posts'],
  ['Review the refund policy wording', 'refund policy'],
  ['Load-test the checkout API', 'load-test'],
  ['Draft the customer announcement email', 'announcement email'],
  ['Check the EU tax settings', 'tax settings'],
  ['Record the webinar intro', 'webinar intro'],
  ['Update the help-centre screenshots', 'screenshots'],
  ['Prepare the rollback plan', 'rollback plan'],
  ['Write the internal FAQ', 'internal FAQ'],
  ['Confirm the partner quotes', 'partner quotes'],
  ['Sign off the legal terms', 'legal terms'],
  ['Plan the launch-day support rota', 'support rota'],
];
const OWNERS = ['u-priya', 'u-marcus', 'u-samira', 'u-elena', 'u-tomas', 'u-hana', 'u-devika', 'u-oliver', 'u-lucia', 'u-jonah', 'u-kofi', 'u-ingrid'];
const MEETING_DAYS = ['2026-03-02', '2026-03-05', '2026-03-09', '2026-03-11', '2026-03-13'];

/** Five meeting pages with four open action items each (one already tracked) → one database row per item. */
function actionItemsTask(): Task {
  const rng = createRng('notes:meeting-actions-to-tracker');
  const pages: PageFixture[] = [];
  const expected: { title: string; key: string; owner: string; due: string; source: string }[] = [];
  let alreadyTracked: { title: string; owner: string; due: string; source: string } | undefined;
  MEETING_DAYS.forEach((day, m) => {
    const title = `Launch readiness sync ${day}`;
    const items = ACTIONS.slice(m * 4, m * 4 + 4);
    const lines = items.map(([text, key]) => {
      const owner = rng.pick(OWNERS);
      const due = addDays(day, rng.int(5, 20));
      const item = { title: text, key, owner, due, source: title };
      if (m === 0 && alreadyTracked === undefined) alreadyTracked = item;
      else expected.push(item);
      return `[ ] ${nameOf(owner)}: ${text} (due ${due})`;
    });
    pages.push({
      id: `ready-${m + 1}`,
      parent: 'meetings',
      title,
      blocks: [`Attendees: ${nameOf('u-ingrid')}, ${nameOf('u-priya')}, ${nameOf('u-lucia')}, Robin Okafor`, '# Notes', `- Launch still planned for April; risk review covered ${rng.pick(['pricing', 'support load', 'the checkout API'])}.`, '# Action items', `[x] ${nameOf(rng.pick(OWNERS))}: Circulate the agenda`, ...lines],
      age_days: 2,
    });
  });
  const tracked = alreadyTracked!;
  const checks: JsonObject[] = expected.map((e) => ({
    check: 'row_exists',
    name: `row for ${e.key}`,
    database_id: 'db-actions',
    title_contains: [e.key],
    values: { Owner: email(e.owner), Due: e.due },
    value_contains: { 'Source meeting': e.source.slice(-10) },
  }));
  checks.push({ check: 'workspace_unchanged', may_create_under: ['db-actions'], max_created: expected.length });
  const steps: ToolInvocation[] = [step('search', { query: 'Launch readiness sync', kind: 'page' }), ...pages.map((p) => step('get_page', { page_id: p.id })), step('query_database', { database_id: 'db-actions', limit: 25 })];
  for (const e of expected) steps.push(step('create_row', { database_id: 'db-actions', title: e.title, properties: { Owner: email(e.owner), Due: e.due, 'Source meeting': e.source } }));
  steps.push(step('submit', {}));
  return notesTask({
    slug: 'meeting-actions-to-tracker',
    instruction:
      'Copy every open (unchecked) action item from this month\'s five "Launch readiness sync" meeting notes into the "Launch action items" database: one row per item, titled with the task, with its Owner, Due date and the meeting page title as "Source meeting". Some items are already in the database; don\'t add those twice.',
    difficulty: 'hard',
    labels: ['database', 'create', 'reading', 'long-horizon'],
    fixtures: {
      pages,
      databases: [
        {
          id: 'db-actions',
          parent: 'projects',
          title: 'Launch action items',
          schema: { Owner: { type: 'person' }, Due: { type: 'date' }, 'Source meeting': { type: 'text' }, Done: { type: 'checkbox' } },
          rows: [{ id: 'act-existing', title: tracked.title, values: { Owner: email(tracked.owner), Due: tracked.due, 'Source meeting': tracked.source, Done: false } }],
        },
      ],
    },
    checks,
    steps,
    family: { name: 'meeting-actions-to-tracker', params: { meetings: MEETING_DAYS.length, items: expected.length } },
  });
}

/** 23 standups from 2025 (three marked keep) and five from 2026 under Meeting notes: archive the 20. */
function archiveStandupsTask(): Task {
  const rng = createRng('notes:archive-2025-standups');
  const pages: PageFixture[] = [];
  const archive: string[] = [];
  const keep: string[] = [];
  const keepAt = new Set([4, 11, 19]);
  for (let i = 0; i < 23; i++) {
    const day = addDays('2025-10-06', i * 3);
    const id = `standup-2025-${pad(i + 1)}`;
    const blocks = [`- Yesterday: ${rng.pick(['reviewed PRs', 'paired on the importer', 'fixed flaky tests', 'updated runbooks'])}`, `- Today: ${rng.pick(['release prep', 'on-call handover', 'planning', 'bug bash'])}`, '- Blockers: none'];
    if (keepAt.has(i)) {
      blocks.push('Keep: referenced in the checkout outage postmortem.');
      keep.push(id);
    } else archive.push(id);
    pages.push({ id, parent: 'meetings', title: `Daily standup — ${day}`, blocks, age_days: 100 - i * 3 });
  }
  const recent = ['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13'].map((day, i) => ({ id: `standup-2026-${i + 1}`, parent: 'meetings', title: `Daily standup — ${day}`, blocks: ['- Yesterday: release prep', '- Blockers: none'], age_days: 7 - i }));
  pages.push(...recent);
  const steps: ToolInvocation[] = [
    step('search', { query: 'Daily standup', parent_id: 'meetings', limit: 20 }),
    step('search', { query: 'Daily standup', parent_id: 'meetings', limit: 20, cursor: encodeCursor('search', 20) }),
    step('search', { query: 'referenced postmortem', parent_id: 'meetings' }),
    ...archive.map((id) => step('archive_page', { page_id: id })),
    step('submit', {}),
  ];
  return notesTask({
    slug: 'archive-2025-standups',
    instruction:
      'Tidy up Meeting notes: archive every "Daily standup" page from 2025, except the ones that say they are referenced in a postmortem — keep those. Leave the 2026 standups and all other meeting notes alone.',
    difficulty: 'hard',
    labels: ['archive', 'pagination', 'search', 'long-horizon'],
    fixtures: { pages },
    checks: [
      { check: 'page_archived', name: '2025 standups archived', page_ids: archive },
      { check: 'page_archived', name: 'kept pages live', page_ids: [...keep, ...recent.map((r) => r.id)], archived: false },
      { check: 'workspace_unchanged', may_change: archive },
    ],
    steps,
    family: { name: 'archive-2025-standups', params: { archive: archive.length, keep: keep.length } },
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar'];
const LONG_MONTHS = ['January', 'February', 'March'];

/** Twenty critique pages with messy titles (a few without a date) renamed to one convention. */
function renameCritiquesTask(): Task {
  const pages: PageFixture[] = [{ id: 'critiques', parent: 'meetings', title: 'Design critiques', blocks: ['Weekly design critique notes, Mondays and Thursdays.'], age_days: 80 }];
  const expected: Record<string, string> = {};
  const undated: string[] = [];
  for (let i = 0; i < 20; i++) {
    const day = addDays('2026-01-05', Math.floor(i / 2) * 7 + (i % 2) * 3);
    const [, mm, dd] = day.split('-').map(Number) as [number, number, number];
    const id = `crit-${pad(i + 1)}`;
    const forms = [
      `Design crit — ${MONTHS[mm - 1]} ${dd}`,
      `crit ${dd} ${LONG_MONTHS[mm - 1]}`,
      `Design critique (${day})`,
      `Crit: ${dd} ${MONTHS[mm - 1]}`,
      `design crit ${MONTHS[mm - 1]!.toLowerCase()} ${dd}`,
      'Critique notes',
      `DC ${day.replaceAll('-', '/')}`,
    ];
    const title = forms[i % forms.length]!;
    const blocks = [`Date: ${day}`, `- Reviewed: ${['checkout flow', 'settings page', 'mobile nav', 'empty states', 'onboarding'][i % 5]}`, '- Decision: iterate and bring back next week'];
    if (title === 'Critique notes') undated.push(id);
    pages.push({ id, parent: 'critiques', title, blocks, age_days: 70 - i * 3 });
    expected[id] = `Design critique ${day}`;
  }
  const steps: ToolInvocation[] = [step('get_page', { page_id: 'critiques' }), ...undated.map((id) => step('get_page', { page_id: id }))];
  for (const [id, title] of Object.entries(expected)) steps.push(step('update_page_title', { page_id: id, title }));
  steps.push(step('submit', {}));
  return notesTask({
    slug: 'rename-design-critiques',
    instruction: 'The pages under "Design critiques" are named inconsistently. Rename every one of them to "Design critique YYYY-MM-DD" with the session date (all sessions were in 2026). A page whose title has no date says the date in its text.',
    difficulty: 'hard',
    labels: ['rename', 'reading', 'long-horizon'],
    fixtures: { pages },
    checks: [...Object.entries(expected).map(([id, title]) => ({ check: 'page_title', name: `${id} title`, page_id: id, equals: title })), { check: 'workspace_unchanged', may_change: Object.keys(expected) }],
    steps,
    family: { name: 'rename-design-critiques', params: { pages: 20, undated: undated.length } },
  });
}

export function meetingTasks(): Task[] {
  return [actionItemsTask(), archiveStandupsTask(), renameCritiquesTask()];
}
