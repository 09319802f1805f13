// The viewer against a hostile trajectory: everything in it (the model's text and reasoning, tool
// names, arguments and results, detector evidence, other reviewers' names) is written by whoever
// controls the model or the environment. Opened in real Chromium, none of it may run script,
// disguise what a command does, or freeze the page; ids that URLs cannot carry must not crash it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { rolloutIdFor, type CheckResult, type Run, type Store, type Task } from '../../src/core/index.ts';
import { at, commandCall as call, recordTurns, rolloutRecord, syntheticRun, syntheticTask, type SyntheticTurn } from './fixtures.ts';
import { startViewer, type Viewer } from './harness.ts';

const PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><svg onload="window.__pwned=3"></svg><a href="javascript:window.__pwned=4">x</a>';
/** Reads as `ls #rm -rf` on screen when the override is obeyed. */
const DISGUISED = 'ls #\u202E fr- mr';
const LOOKALIKE_TOOL = 'ba\u200Bsh';
const ESCAPES = 'plain \u001b[8mconcealed\u001b[0m text';
const BIG_RESULT = `${'A'.repeat(1_500_000)}EVIDENCE-IN-THE-MIDDLE${'B'.repeat(1_500_000)}`;
const MANY_CALLS = 3000;
const EVIDENCE_CALL = 2500;
const LONE_SURROGATE_RUN = 'run_lone_\uD800_id';
/** `bash` with a Cyrillic `а`. */
const CYRILLIC_TOOL = 'b\u0430sh';
/** `cat /etc/passwd` in fullwidth and mathematical bold letters, then a Greek omicron in `rоot`. */
const LOOKALIKE_COMMAND = '\uFF43\uFF41\uFF54 /etc/\u{1D429}\u{1D41A}\u{1D42C}\u{1D42C}\u{1D430}\u{1D41D} | grep r\u03BFot';
/** Whole words of Russian and Greek are text, not disguise. */
const NATIVE_TEXT = 'Привет, мир. Καλημέρα κόσμε. plain words';
/** How much "Show all" reveals at a time. */
const PIECE = 256 * 1024;
const HUGE_RESULT = `${'x'.repeat(2_500_000)}MIDDLE${'y'.repeat(2_500_000)}`;

/** A finished run of one task, its model name a `javascript:` URL. */
const runRecord = (id: string, taskId: string): Run => syntheticRun(id, { env: 'synthetic', model: 'javascript:window.__pwned=5', taskIds: [taskId], epochs: 1, createdAt: at(0) });

/** One scored, failed rollout of `turns`, its reasoning and its one check's name and detail all markup. */
function writeRollout(store: Store, options: { run: Run; task: Task; prompt: string; turns: SyntheticTurn[] }): string {
  const { run, task, turns } = options;
  const rolloutId = rolloutIdFor(run.id, task.id, 0);
  recordTurns(store.recorder({ runId: run.id, rolloutId, attempt: 1 }), { run, rolloutId, prompt: options.prompt, turns, reasoning: PAYLOAD });
  const toolCalls = turns.reduce((n, turn) => n + turn.calls.length, 0);
  const checks: CheckResult[] = [{ name: PAYLOAD, kind: 'outcome', passed: false, detail: PAYLOAD }];
  store.commitRollout(rolloutRecord({ run, taskId: task.id, epoch: 0, status: 'scored', terminationReason: 'answered', passed: false, score: 0, turns: turns.length, toolCalls, durationMs: 10_000, second: 10, checks }));
  return rolloutId;
}

/**
 * One rollout: markup and disguised text at step 1, a 3 MB one-line result holding evidence at
 * step 2, 3,000 tool calls at step 3. A second rollout: look-alike letters at step 1 and a 5 MB
 * one-line result at step 2.
 */
function writeHostileRun(store: Store): { runId: string; rolloutId: string; lookalikeRolloutId: string } {
  const taskId = 'synthetic/hostile';
  const run = runRecord('run_hostile', taskId);
  const task = syntheticTask(taskId, 'synthetic', PAYLOAD);
  store.createRun(run, [task]);
  const rolloutId = writeRollout(store, {
    run,
    task,
    prompt: `${PAYLOAD} ${ESCAPES}`,
    turns: [
      { content: PAYLOAD, calls: [call('call_1', LOOKALIKE_TOOL, DISGUISED)], results: [`${PAYLOAD}\n${ESCAPES}`] },
      { content: 'reading the file', calls: [call('call_2', 'bash', 'cat big.txt')], results: [BIG_RESULT] },
      { content: 'many at once', calls: Array.from({ length: MANY_CALLS }, (_, i) => call(`many_${i}`, 'bash', `echo marker-${i}-end`)), results: [] },
      { content: 'done', calls: [], results: [] },
    ],
  });
  store.saveDetections(rolloutId, 1, {
    createdAt: at(30),
    detectors: ['rules/dangerous_command'],
    flags: [
      { category: 'dangerous_command', detector: PAYLOAD, severity: 'high', evidence: { callIndex: 1, excerpt: 'EVIDENCE-IN-THE-MIDDLE' }, reason: PAYLOAD },
      { category: 'dangerous_command', detector: 'rules/dangerous_command', severity: 'medium', evidence: { callIndex: 2, excerpt: `marker-${EVIDENCE_CALL}-end` }, reason: 'the 2,501st call' },
    ],
    monitor: null,
    review: [],
    unparsed: [],
  });
  const lookalikeTaskId = 'synthetic/lookalike';
  const lookalikeRun = runRecord('run_lookalike', lookalikeTaskId);
  const lookalikeTask = syntheticTask(lookalikeTaskId, 'synthetic', PAYLOAD);
  store.createRun(lookalikeRun, [lookalikeTask]);
  const lookalikeRolloutId = writeRollout(store, {
    run: lookalikeRun,
    task: lookalikeTask,
    prompt: 'clean up',
    turns: [
      { content: 'cleaning up', calls: [call('call_1', CYRILLIC_TOOL, LOOKALIKE_COMMAND)], results: [NATIVE_TEXT] },
      { content: 'reading the log', calls: [call('call_2', 'bash', 'cat huge.log')], results: [HUGE_RESULT] },
      { content: 'done', calls: [], results: [] },
    ],
  });
  // A run whose id no URL can carry as text (ids are stored as given): the viewer opens it by reference.
  store.createRun(runRecord(LONE_SURROGATE_RUN, taskId), [task]);
  store.flush();
  return { runId: run.id, rolloutId, lookalikeRolloutId };
}

declare global {
  interface Window {
    __pwned?: number;
    __violations?: string[];
  }
}

describe('the viewer against a hostile trajectory', { timeout: 300_000 }, () => {
  let viewer: Viewer<ReturnType<typeof writeHostileRun>>;
  let page: Page;
  const dialogs: string[] = [];
  const stepCard = (position: number) => page.locator(`[data-testid=step]:has(#step-${position}-title)`);

  before(async () => {
    viewer = await startViewer({ fill: writeHostileRun });
    // Every policy violation is a sign the page tried something the policy forbids (or that the app itself needs loosening).
    await viewer.browser.context.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (event) => window.__violations!.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
    page = await viewer.browser.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const label = await fetch(`${viewer.server.url}/api/labels/verdict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rolloutId: viewer.data.rolloutId, verdict: 'reject', reviewer: 'mallory\u202Eecila', reason: PAYLOAD }),
    });
    assert.equal(label.status, 201, await label.text());
  });
  after(async () => {
    await viewer?.close();
  });

  it('lists a run whose id holds a lone surrogate, marked, and clicking it opens the run', async () => {
    await page.goto(`${viewer.server.url}/#/runs`);
    const link = page.getByTestId('runs-table').getByRole('link', { name: /^run_lone_\s*⟨U\+D800⟩\s*_id$/ });
    await link.waitFor();
    assert.match((await link.getAttribute('href')) ?? '', /#\/runs\/run_lone_%uD800_id$/);
    await link.click();
    await page.getByRole('heading', { name: /^Run run_lone_\s*⟨U\+D800⟩\s*_id$/ }).waitFor();
    await page.getByTestId('run-stats').waitFor();
    assert.deepEqual(viewer.browser.pageErrors, []);
    await page.goto(`${viewer.server.url}/#/runs/%E0%A4%A`);
    await page.getByText(/No page at/).waitFor();
    assert.deepEqual(viewer.browser.pageErrors, []);
  });

  it('serves the app under a policy that refuses inline script, and the app itself breaks none of it', async () => {
    // A fresh document (not a hash change), so the page's own response headers are read.
    await page.goto('about:blank');
    const response = await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.rolloutId}`);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await stepCard(0).waitFor();
    await page.goto(`${viewer.server.url}/#/runs/${viewer.data.runId}`);
    await page.getByTestId('run-stats').waitFor();
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'the app runs no eval and no inline script or style');
    // Script that markup could sneak in is refused: an inline script element never runs.
    const inlineRan = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__pwned = 6';
      document.head.append(script);
      return window.__pwned === 6;
    });
    assert.equal(inlineRan, false, 'the page policy refuses inline script');
    assert.ok((await page.evaluate(() => window.__violations!)).some((v) => v.startsWith('script-src')));
  });

  it('shows markup from the model, the tools, the detectors and other reviewers as text and runs none of it', async () => {
    await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.rolloutId}`);
    const first = stepCard(0);
    await first.waitFor();
    await page.getByRole('button', { name: 'Show all reasoning' }).click();
    await first.locator('.reasoning-text').waitFor();
    const text = await first.innerText();
    assert.equal(text.split(PAYLOAD).length - 1 >= 4, true, `the payload shown literally in message, reasoning, reply and result:\n${text.slice(0, 2000)}`);
    assert.match(await page.getByTestId('verdict-history').innerText(), /<script>window.__pwned=2<\/script>/);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('[data-testid=step] img, [data-testid=step] script, [data-testid=step] svg, aside img, aside script').count(), 0);
    assert.deepEqual(dialogs, []);
  });

  it('marks bidi overrides, zero-width characters and terminal escapes instead of letting them disguise text', async () => {
    await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.rolloutId}`);
    const first = stepCard(0);
    await first.waitFor();
    const text = await first.innerText();
    // Nothing invisible reaches the screen: the override would turn `ls # fr- mr` into `ls #rm -rf`.
    for (const hidden of ['\u202E', '\u200B', '\u001B']) assert.equal(text.includes(hidden), false, `${JSON.stringify(hidden)} left in: ${JSON.stringify(text.slice(0, 600))}`);
    assert.ok(text.includes('ls #⟨RLO⟩ fr- mr'), `the override is marked where it stands: ${text.slice(0, 600)}`);
    assert.ok(text.includes('ba⟨ZWSP⟩sh'), 'the look-alike tool name is told apart from bash');
    assert.ok(text.includes('␛[8mconcealed␛[0m'), 'terminal escapes are shown, not swallowed');
    assert.equal(await first.locator('.hidden-char[title*="right-to-left override"]').count() >= 1, true);
    const history = await page.getByTestId('verdict-history').innerText();
    assert.ok(history.includes('mallory⟨RLO⟩ecila'), `another reviewer's disguised name is marked: ${history}`);
  });

  it('shows evidence inside a 3 MB one-line result in place, without laying out the whole result', async () => {
    await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.rolloutId}?step=2`);
    const result = stepCard(1).getByLabel('Step 2 bash result');
    await result.waitFor();
    assert.equal(await result.locator('mark.evidence').innerText(), 'EVIDENCE-IN-THE-MIDDLE');
    const shown = await result.evaluate((pre) => pre.textContent!.length);
    assert.ok(shown < 10_000, `only the text around the evidence is laid out (${shown} characters)`);
    await stepCard(1).getByRole('button', { name: /^Show all/ }).click();
    // "Show all" starts from the piece holding the evidence, and offers the pieces on either side.
    await stepCard(1).getByRole('button', { name: /^Show the previous 262,144 characters/ }).waitFor();
    await stepCard(1).getByRole('button', { name: /^Show the next 262,144 characters/ }).waitFor();
    assert.equal(await result.locator('mark.evidence').innerText(), 'EVIDENCE-IN-THE-MIDDLE');
    assert.equal(await result.evaluate((pre) => pre.textContent!.length), PIECE);
  });

  it('marks letters of another script inside a word, and fullwidth and mathematical letters, but not whole Russian or Greek words', async () => {
    await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.lookalikeRolloutId}`);
    const first = stepCard(0);
    await first.waitFor();
    const cyrillic = first.locator('.tool-call .lookalike[data-lookalike="U+0430"]').first();
    assert.match((await cyrillic.getAttribute('title')) ?? '', /^U\+0430 Cyrillic letter in a Latin word/);
    assert.equal(await cyrillic.innerText(), '\u0430', 'the letter itself stays, highlighted');
    const args = first.getByLabel(`Step 1 ${CYRILLIC_TOOL} arguments`);
    const marked = await args.locator('.lookalike').evaluateAll((marks) => marks.map((mark) => mark.getAttribute('data-lookalike')));
    assert.deepEqual(marked, ['U+FF43', 'U+FF41', 'U+FF54', 'U+1D429', 'U+1D41A', 'U+1D42C', 'U+1D42C', 'U+1D430', 'U+1D41D', 'U+03BF']);
    assert.match((await args.locator('[data-lookalike="U+FF43"]').getAttribute('title')) ?? '', /fullwidth “c”/);
    assert.match((await args.locator('[data-lookalike="U+03BF"]').getAttribute('title')) ?? '', /Greek letter in a Latin word/);
    const native = first.getByLabel(`Step 1 ${CYRILLIC_TOOL} result`);
    assert.equal(await native.innerText(), NATIVE_TEXT);
    assert.equal(await native.locator('.lookalike').count(), 0, 'real Russian and Greek words are not marked');
  });

  it('reveals a 5 MB one-line output a piece at a time after "Show all", and offers the whole to download', async () => {
    await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.lookalikeRolloutId}?step=2`);
    const card = stepCard(1);
    const result = card.getByLabel('Step 2 bash result');
    await result.waitFor();
    await card.getByRole('button', { name: /^Show all/ }).click();
    const next = card.getByRole('button', { name: /^Show the next/ });
    await next.waitFor();
    assert.equal(await next.innerText(), `Show the next 262,144 characters (${(HUGE_RESULT.length - PIECE).toLocaleString('en-US')} after)`);
    assert.equal(await result.evaluate((pre) => pre.textContent!.length), PIECE, 'one piece is laid out, not 5 MB');
    assert.ok((await page.evaluate(() => document.body.textContent!.length)) < 2 * PIECE, 'nothing else holds the output either');
    await next.click();
    await page.waitForFunction((size) => document.querySelector('[aria-label="Step 2 bash result"]')!.textContent!.length === size, 2 * PIECE);
    assert.equal(await next.innerText(), `Show the next 262,144 characters (${(HUGE_RESULT.length - 2 * PIECE).toLocaleString('en-US')} after)`);
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: /^Download/ }).click()]);
    assert.equal(download.suggestedFilename(), 'Step-2-bash-result.txt');
    assert.equal(readFileSync(await download.path(), 'utf8'), HUGE_RESULT, 'the download holds the whole output');
    await viewer.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: viewer.server.url });
    await card.getByRole('button', { name: 'Copy all' }).click();
    await card.getByRole('button', { name: 'Copied all' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), HUGE_RESULT, 'the clipboard holds the whole output');
    await card.getByRole('button', { name: 'Show less' }).click();
    await card.getByRole('button', { name: /^Show all/ }).waitFor();
    assert.deepEqual(viewer.browser.pageErrors, []);
  });

  it('mounts the first tool calls of a 3,000-call response (and the one holding evidence), the rest on request', async () => {
    await page.goto(`${viewer.server.url}/#/rollouts/${viewer.data.rolloutId}?step=3`);
    const card = stepCard(2);
    await card.locator('.tool-call').first().waitFor();
    const mounted = await card.locator('.tool-call').count();
    assert.equal(mounted, 51, 'the first 50 calls and the one with the flagged evidence');
    assert.equal(await card.locator('mark.evidence').innerText(), `marker-${EVIDENCE_CALL}-end`);
    await card.getByRole('button', { name: `Show 200 more tool calls (${(MANY_CALLS - 51).toLocaleString('en-US')} not shown)` }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=step]:has(#step-2-title) .tool-call').length === 251);
    assert.deepEqual(viewer.browser.pageErrors, []);
  });
});
