// The viewer's pages beyond the trajectory, against text a task, a model or another reviewer wrote,
// and as a new user meets them: a run still writing rollouts, a report over thousands of tasks, an
// export of megabyte trajectories, a page path pasted as a path. Real Chromium, real server.
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { rolloutIdFor, type Store } from '../../src/core/index.ts';
import { at, commandCall, recordTurns, rolloutRecord, syntheticRun, syntheticTask } from './fixtures.ts';
import { startViewer, type Viewer } from './harness.ts';

/** Reads as `live-exe.txt` when the override is obeyed. */
const TASK_ID = 'synthetic/live-\u202Etxt.exe';
const TOOL = 'ba\u200Bsh';
const REVIEWER = 'mallory\u202Eecila';
const MODEL = 'model-\u202Eevil';
/** One reply of a megabyte: a KTO record of it is bigger still. */
const BIG_REPLY = `\u202E${'z'.repeat(1_000_000)}`;
const REPORT_ROWS = 5000;
/** Tool names a model made up, each called once: the tool chart must not draw one bar per name at once. */
const MADE_UP_TOOLS = 300;

const task = syntheticTask(TASK_ID, 'synthetic', 'do it');
/** Still running: its second epoch is written while the tests look at it. */
const run = syntheticRun('run_live', { env: 'synthetic', model: MODEL, taskIds: [task.id], epochs: 2, groupSize: 1, createdAt: at(0), status: 'running' });

/** Epoch `epoch` of the task: one call of TOOL (and `madeUp` calls of made-up tools), then a reply of `reply`; committed as a scored rollout. */
function writeRollout(store: Store, epoch: number, reply: string, madeUp = 0): string {
  const rolloutId = rolloutIdFor(run.id, task.id, epoch);
  const recorder = store.recorder({ runId: run.id, rolloutId, attempt: 1 });
  const turns = [
    { content: 'calling', calls: [commandCall('call_1', TOOL, 'ls')], results: ['a.txt'] },
    { content: reply, calls: [], results: [] },
  ];
  recordTurns(recorder, { run, rolloutId, prompt: 'do it', turns });
  // The run's tool chart counts tool_call events: TOOL once, each made-up name once.
  recorder.event('tool_call', { id: 'call_1', name: TOOL, arguments: '{"command":"ls"}' });
  for (let k = 0; k < madeUp; k++) recorder.event('tool_call', { id: `made_up_${k}`, name: `made_up_${k}`, arguments: '{}' });
  store.commitRollout(rolloutRecord({ run, taskId: task.id, epoch, status: 'scored', terminationReason: 'answered', passed: true, score: 1, turns: 2, toolCalls: 1, durationMs: 10_000, second: 10 }));
  store.flush();
  return rolloutId;
}

/** An eval report over many tasks, whose rows do not all have the same fields. */
function writeReport(dir: string): void {
  mkdirSync(join(dir, 'reports'), { recursive: true });
  const perTask = Array.from({ length: REPORT_ROWS }, (_, i) => (i === 1 ? { task: `task-${i}` } : { task: `task-${i}`, toString: 'own field' }));
  const report = { kind: 'gauntlet.eval-report', modelNames: [MODEL], scores: [1, null, 0.5], perTask };
  writeFileSync(join(dir, 'reports', 'big.json'), JSON.stringify(report));
}

describe('the viewer beyond the trajectory, against hostile text and as a new user', { timeout: 300_000 }, () => {
  let viewer: Viewer<{ first: string }>;
  let page: Page;

  before(async () => {
    viewer = await startViewer({
      fill: (store) => {
        store.createRun(run, [task]);
        return { first: writeRollout(store, 0, BIG_REPLY, MADE_UP_TOOLS) };
      },
    });
    writeReport(viewer.dir);
    page = await viewer.browser.newPage();
    const label = await fetch(`${viewer.server.url}/api/labels/verdict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rolloutId: viewer.data.first, verdict: 'accept', reviewer: REVIEWER }),
    });
    assert.equal(label.status, 201, await label.text());
  });
  after(async () => {
    await viewer?.close();
  });

  it('says in the runs list that a run is still running, and names an empty filter result as such', async () => {
    await page.goto(`${viewer.server.url}/#/runs`);
    const row = page.getByTestId('runs-table').locator('[aria-rowindex]').first();
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /running/);
    assert.ok(text.includes('model-⟨RLO⟩evil'), `the model's override is marked: ${text}`);
    await page.getByLabel('Model').fill('no-such-model');
    await page.getByLabel('Model').press('Enter');
    await page.getByText('No runs match these filters.').waitFor();
  });

  it('tells the reader a run is still in progress, and Refresh shows the rollouts written since', async () => {
    await page.goto(`${viewer.server.url}/#/runs/${run.id}`);
    const notice = page.getByTestId('run-in-progress');
    await notice.waitFor();
    assert.match(await notice.innerText(), /still in progress/);
    const rows = page.getByTestId('rollouts-table').locator('[aria-rowindex]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    writeRollout(viewer.store, 1, 'done');
    await notice.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=rollouts-table] [aria-rowindex]').length === 2);
    const rolloutsStat = page.getByTestId('run-stats').locator('.stat').first();
    await page.waitForFunction(() => document.querySelector('[data-testid=run-stats] .stat .stat-value')?.textContent === '2');
    assert.equal(await rolloutsStat.locator('.stat-label').innerText(), 'rollouts');
  });

  it('draws the 50 most used of 301 tool names, and more on request', async () => {
    await page.goto(`${viewer.server.url}/#/runs/${run.id}`);
    const chart = page.locator('figure', { hasText: 'Tool calls by tool' });
    await chart.waitFor();
    assert.equal(await chart.locator('g').count(), 50);
    await chart.getByRole('button', { name: `Show 200 more (${(MADE_UP_TOOLS + 1 - 50).toLocaleString('en-US')} not shown)` }).click();
    await page.waitForFunction(() => Array.from(document.querySelectorAll('figure')).find((f) => f.textContent!.includes('Tool calls by tool'))!.querySelectorAll('g').length === 250);
  });

  it('marks hidden characters in task ids and in the tool names of the run charts', async () => {
    await page.goto(`${viewer.server.url}/#/runs/${run.id}`);
    const cell = page.getByTestId('rollouts-table').locator('[aria-rowindex]').first().locator('[role=cell]').nth(1);
    await cell.waitFor();
    const task = await cell.innerText();
    assert.equal(task, 'synthetic/live-⟨RLO⟩txt.exe');
    const chart = page.locator('figure', { hasText: 'Tool calls by tool' });
    assert.ok((await chart.locator('svg').getAttribute('aria-label'))!.includes('ba⟨ZWSP⟩sh'));
    const label = chart.locator('text.tick').first();
    assert.equal(await label.evaluate((text) => text.firstChild!.textContent), 'ba⟨ZWSP⟩sh', 'the label beside the bar');
    assert.equal(await label.locator('title').textContent(), 'ba⟨ZWSP⟩sh', 'its tooltip');
    const perTask = page.locator('figure', { hasText: 'Pass rate per task' });
    assert.ok(!(await perTask.locator('svg').innerHTML()).includes('\u202E'), 'no override reaches the chart');
  });

  it('marks a reviewer name that holds an override on the agreement page', async () => {
    await page.goto(`${viewer.server.url}/#/stats`);
    const scope = page.getByText(/current labels by 1 reviewers/);
    await scope.waitFor();
    assert.ok((await scope.innerText()).includes('mallory⟨RLO⟩ecila'), await scope.innerText());
  });

  it('shows a report of 5,000 rows 100 at a time, with each row’s own fields only and no object text', async () => {
    await page.goto(`${viewer.server.url}/#/reports/big.json`);
    const report = page.getByTestId('report');
    await report.waitFor();
    const rows = report.locator('tbody tr');
    await rows.first().waitFor();
    const text = await report.innerText();
    assert.ok(!text.includes('[object Object]'), 'a null in a list of numbers is a dash, not [object Object]');
    assert.ok(!text.includes('native code'), 'a row without a field named toString shows no function text');
    assert.ok(text.includes('model-⟨RLO⟩evil'));
    assert.equal(await rows.count(), 100);
    await report.getByRole('button', { name: `Show 100 more rows (${(REPORT_ROWS - 100).toLocaleString('en-US')} not shown)` }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=report] tbody tr').length === 200);
  });

  it('previews an export of a megabyte record without laying it all out, marking its hidden characters', async () => {
    await page.goto(`${viewer.server.url}/#/exports`);
    await page.getByLabel('Format').selectOption('kto');
    await page.getByText('1 records.').waitFor();
    const preview = page.getByTestId('export-preview');
    const shown = await preview.evaluate((pre) => pre.textContent!.length);
    assert.ok(shown <= 70_000, `only the start of the record is laid out (${shown} characters)`);
    assert.ok((await preview.innerText()).includes('⟨RLO⟩'), 'the override in the reply is marked');
    assert.match(await page.getByTestId('export-preview-cut').innerText(), /the download holds every record whole/);
  });

  it('opens a page path typed as a path (not a hash) at the page it names', async () => {
    await page.goto(`${viewer.server.url}/runs/${run.id}`);
    await page.getByTestId('run-stats').waitFor();
    assert.ok(page.url().endsWith(`/#/runs/${run.id}`), page.url());
    assert.deepEqual(viewer.browser.pageErrors, []);
  });
});
