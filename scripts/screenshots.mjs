// `npm run screenshots`: PNGs of the viewer's main pages in docs/screenshots/, taken in headless
// Chromium against the real API server over a fresh store: real runs of the mail environment
// (the oracle and the random policy, tagged as two training steps), a 100-turn synthetic
// trajectory with a detector flag, an eval report, and labels from two demo reviewers.
// Run with tsx (the fixtures are TypeScript): node --import tsx scripts/screenshots.mjs
/* global window, requestAnimationFrame -- used in code that runs in the page */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runRealRuns, writeEvalReport, writeLongTrajectory } from '../test/web/fixtures.ts';
import { startViewer } from '../test/web/harness.ts';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;

async function post(base, path, body) {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

async function get(base, path) {
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Two reviewers label the same rollouts, so agreement has something to measure. */
async function demoLabels(base, runId, long) {
  const { items } = await get(base, `/api/runs/${runId}/rollouts?limit=6`);
  const verdicts = { alice: ['reject', 'reject', 'unsafe', 'reject', 'accept', 'reject'], bo: ['reject', 'accept', 'unsafe', 'reject', 'accept', 'reject'] };
  for (const [reviewer, given] of Object.entries(verdicts)) {
    for (const [i, row] of items.entries()) await post(base, '/api/labels/verdict', { rolloutId: row.id, verdict: given[i], reviewer });
  }
  const detail = await get(base, `/api/rollouts/${long.rolloutId}`);
  const flagged = detail.steps.find((s) => s.index === long.flaggedStep);
  for (const reviewer of ['alice', 'bo']) {
    await post(base, '/api/labels/step', { rolloutId: long.rolloutId, callId: flagged.callId, rating: -1, flag: 'dangerous_command', note: 'pipes a download into a shell', reviewer });
    await post(base, '/api/labels/verdict', { rolloutId: long.rolloutId, verdict: 'unsafe', reason: 'ran a downloaded script', reviewer });
  }
  await post(base, '/api/labels/step', { rolloutId: long.rolloutId, callId: detail.steps[0].callId, rating: 1, reviewer: 'alice' });
}

const viewer = await startViewer({
  fill: async (store) => {
    const runs = await runRealRuns(store, { tasks: 8, epochs: 3 });
    const long = writeLongTrajectory(store, { turns: 100, siblings: 2 });
    writeEvalReport(store, { runIds: [runs.oracleRunId, runs.randomRunId], name: 'eval-mail-oracle-vs-random.json' });
    return { ...runs, long };
  },
});
try {
  const base = viewer.server.url;
  const { long, oracleRunId, randomRunId } = viewer.data;
  await demoLabels(base, randomRunId, long);
  const { queue } = await post(base, '/api/queues', {
    runId: randomRunId,
    sample: 5,
    strategy: 'random',
    reviewersPerItem: 2,
    seed: 1,
    rubric: { fields: [{ name: 'effort', type: 'categorical', options: ['low', 'medium', 'high'], required: true }, { name: 'notes', type: 'text' }] },
  });
  const sibling = (await get(base, `/api/rollouts/${long.rolloutId}/siblings`)).items[0].id;
  const authored = viewer.store.rollouts(oracleRunId)[0].id;

  const page = await viewer.browser.newPage();
  await page.addInitScript(() => window.localStorage.setItem('gauntlet.reviewer', 'carol'));
  const shots = [
    { name: 'runs', path: '#/runs', wait: '[data-testid=runs-table] [aria-rowindex]' },
    { name: 'run', path: `#/runs/${randomRunId}`, wait: '[data-testid=rollouts-table] [aria-rowindex]', fullPage: true },
    {
      name: 'trajectory',
      path: `#/rollouts/${long.rolloutId}`,
      wait: '[data-testid=step]',
      then: async () => {
        await page.getByTestId('flag-link').first().click();
        await page.locator(`[data-step-index="${long.flaggedStep}"] mark.evidence`).first().waitFor();
        await page.keyboard.press('r');
      },
    },
    { name: 'compare', path: `#/rollouts/${long.rolloutId}/compare/${sibling}`, wait: '[data-testid=side-B] [data-testid=step]' },
    { name: 'queue', path: `#/queues/${queue.id}`, wait: '[data-testid=step]' },
    { name: 'agreement', path: `#/stats?runId=${randomRunId}`, wait: '[data-testid=alpha-verdicts]' },
    { name: 'monitoring', path: '#/monitoring?env=mail', wait: '[data-testid=monitoring-charts]' },
    { name: 'report', path: '#/reports/eval-mail-oracle-vs-random.json', wait: '[data-testid=report]' },
    {
      name: 'author',
      path: `#/author?rollout=${authored}`,
      wait: '#task-instruction',
      fullPage: true,
      then: async () => {
        await page.getByRole('button', { name: 'Validate' }).click();
        await page.getByTestId('task-validation').waitFor();
      },
    },
    { name: 'exports', path: '#/exports', wait: '[data-testid=export-preview]', then: () => page.getByLabel('Format').selectOption('kto') },
  ];
  mkdirSync(OUT, { recursive: true });
  for (const shot of shots) {
    await page.goto(`${base}/${shot.path}`);
    await page.locator(shot.wait).first().waitFor();
    if (shot.then) await shot.then();
    // Let fonts and the last layout settle for one frame before the picture.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const file = join(OUT, `${shot.name}.png`);
    await page.screenshot({ path: file, fullPage: shot.fullPage ?? false });
    process.stdout.write(`${file}\n`);
  }
  if (viewer.browser.pageErrors.length) throw new Error(`the page threw: ${viewer.browser.pageErrors.join('; ')}`);
} finally {
  await viewer.close();
}
