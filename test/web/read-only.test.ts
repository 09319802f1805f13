// The viewer over a store served read-only, in real headless Chromium: it says so on every page,
// shows every review action disabled with the reason, leaves the labelling keys unbound, lists a
// queue's items to read instead of reserving one, and sends no request that would write.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Store } from '../../src/core/index.ts';
import { createQueue, QueueInput } from '../../src/review/index.ts';
import { startApiServer, type ApiServer } from '../../src/server/api/index.ts';
import { openStore } from '../../src/store/index.ts';
import { openBrowser, type BrowserSession } from './browser.ts';
import { buildWeb } from './build.ts';
import { runRealRuns } from './fixtures.ts';

const REASON = 'its directory /shared/results is read-only';

/** Every POST the page sends, recorded as it is sent (the app calls the page's fetch at the moment it writes). */
const RECORD_POSTS = `
  window.__posts = [];
  const send = window.fetch.bind(window);
  window.fetch = (input, init) => {
    if (init && init.method === 'POST') window.__posts.push(String(input));
    return send(input, init);
  };
`;

describe('the web viewer over a read-only store', { timeout: 240_000 }, () => {
  let dir: string;
  let store: Store;
  let server: ApiServer;
  let browser: BrowserSession;
  let page: Page;
  let runs: Awaited<ReturnType<typeof runRealRuns>>;
  let queueId: string;
  const posts = () => page.evaluate(() => (window as unknown as { __posts: string[] }).__posts);
  const focusedIndex = () => page.evaluate(() => document.querySelector('[data-testid=step].focused')?.getAttribute('data-step-index') ?? null);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-viewer-ro-'));
    const path = join(dir, 'store.sqlite');
    const writer = openStore(path);
    runs = await runRealRuns(writer, { tasks: 2, epochs: 2 });
    queueId = createQueue({ store: writer }, QueueInput.parse({ runId: runs.oracleRunId, sample: 2, strategy: 'random', reviewersPerItem: 1, seed: 3 })).id;
    writer.close();
    store = openStore(path, { readOnly: true });
    const webRoot = await buildWeb({ outDir: join(dir, 'web') });
    server = await startApiServer({ store, port: 0, webRoot, readOnly: { reason: REASON } });
    browser = await openBrowser();
    page = await browser.newPage();
    await page.addInitScript(RECORD_POSTS);
  });
  after(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.close();
      store?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says on every page that the store is read-only, and why', async () => {
    await page.goto(`${server.url}/#/runs`);
    const notice = page.getByTestId('read-only-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), new RegExp(`Read-only store \\(${REASON}\\): runs, trajectories, labels and queues can be read; .* cannot be saved`));
    await page.getByRole('link', { name: runs.oracleRunId }).click();
    await page.getByTestId('rollouts-table').getByRole('row').nth(1).waitFor();
    assert.equal(await notice.isVisible(), true);
  });

  it('shows a trajectory with its verdict and rating controls disabled, and binds no labelling key', async () => {
    await page.locator('#reviewer-name').fill('alice');
    await page.locator('#reviewer-name').press('Enter');
    await page.getByTestId('rollouts-table').getByRole('row').nth(1).getByRole('link').click();
    await page.getByTestId('step').nth(1).waitFor();
    assert.match(await page.getByTestId('verdict-locked').innerText(), /read-only/);
    for (const name of [/Accept/, /Reject/, /Unsafe/]) assert.equal(await page.getByRole('button', { name }).isDisabled(), true, String(name));
    assert.equal(await page.getByLabel('Reason').isDisabled(), true);
    const first = page.getByTestId('step').first();
    assert.equal(await first.getByRole('button', { name: 'Rate step 1 +1' }).isDisabled(), true);
    assert.equal(await first.getByLabel('Flag for step 1').isDisabled(), true);
    // The labelling keys, then a reading key: once the reading key has moved the focus, the others were handled too.
    const before = await focusedIndex();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    for (const key of ['1', '2', '3', '=', '-', '0', 'j']) await page.keyboard.press(key);
    await page.waitForFunction((was) => document.querySelector('[data-testid=step].focused')?.getAttribute('data-step-index') !== was, before);
    assert.deepEqual(await posts(), [], 'no label was sent');
    await page.keyboard.type('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Next step').waitFor();
    assert.doesNotMatch(await help.innerText(), /Verdict|Rate the focused step/);
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
  });

  it('compares siblings with the preference disabled and the scores shown, and binds no preference key', async () => {
    await page.getByRole('link', { name: /Compare with sibling/ }).first().click();
    await page.getByTestId('side-A').getByTestId('step').first().waitFor();
    await page.getByTestId('preference-locked').waitFor();
    for (const name of [/A is better/, /Tie/, /B is better/]) assert.equal(await page.getByRole('button', { name }).isDisabled(), true, String(name));
    // Nothing can be chosen, so the scores are not kept hidden for a choice.
    await page.getByTestId('side-A').getByRole('link').first().waitFor();
    for (const key of ['a', 'b', 't']) await page.keyboard.press(key);
    await page.keyboard.type('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Show or hide this help').waitFor();
    assert.doesNotMatch(await help.innerText(), /Prefer|Tie/);
    await page.keyboard.press('Escape');
    assert.deepEqual(await posts(), []);
  });

  it('lists a queue\'s items to read instead of reserving one, and offers no new queue', async () => {
    await page.goto(`${server.url}/#/queues/${queueId}`);
    await page.getByTestId('queue-locked').waitFor();
    const items = page.getByRole('table', { name: 'Queue items' }).getByRole('row');
    await items.nth(2).waitFor();
    assert.equal(await items.count(), 3, 'a header and the two items');
    await items.nth(1).getByRole('link').click();
    await page.getByTestId('step').first().waitFor();
    await page.goto(`${server.url}/#/queues`);
    await page.getByTestId('create-queue-locked').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create queue' }).isDisabled(), true);
    assert.deepEqual(await posts(), [], 'no item was reserved');
  });

  it('stored nothing, and threw no error in any page', () => {
    assert.deepEqual(store.reviewLabels({ runId: runs.oracleRunId }), []);
    assert.ok(store.reviewItems(queueId, Date.now()).every((item) => item.heldBy === null));
    assert.deepEqual(browser.pageErrors, []);
  });
});
