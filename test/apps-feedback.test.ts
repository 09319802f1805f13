import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { FeedbackConfig } from '../src/apps/feedback/areas.ts';
import { ingestFile, parseCsv } from '../src/apps/feedback/ingest.ts';
import { feedbackCases, LabelledFeedback, runTriage, type Triage } from '../src/apps/feedback/triage.ts';
import type { ModelClient, ModelResult } from '../src/core/index.ts';
import { loadTaskFile } from '../src/envs/index.ts';
import { openStore } from '../src/store/index.ts';
import { appsCli } from './apps-support.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/feedback/${name}`, import.meta.url));
const files = [example('feedback.jsonl'), example('issues.json'), example('survey.csv')];
const scratch = () => mkdtempSync(join(tmpdir(), 'gauntlet-feedback-'));

describe('gauntlet feedback', () => {
  it('ingests JSONL, GitHub issues and CSV: skips bad rows with a count, merges duplicates, clusters, classifies and routes', async () => {
    const dir = scratch();
    const store = join(dir, 'g.db');
    const run = await appsCli(['feedback', 'ingest', ...files, '--config', example('config.yaml'), '--model', `keyed:${example('model.yaml')}`, '--store', store, '--out', join(dir, 'triage.json'), '--json']);
    assert.equal(run.code, 0, run.err);
    const triage = JSON.parse(run.out) as Triage;
    assert.deepEqual(triage.counts, { rows: 14, skipped: 4, reports: 10, duplicates: 1, clusters: 8, byRules: 5, byModel: 3, undecided: 0 });
    assert.deepEqual(
      triage.problems.map((p) => p.where),
      ['feedback.jsonl:5', 'feedback.jsonl:6', 'issues.json[2]', 'survey.csv:4'],
    );
    const route = Object.fromEntries(triage.clusters.map((c) => [c.reports[0]!.title, [c.area, c.method, c.owners.join('+'), c.reports.length + c.duplicates.length]]));
    assert.deepEqual(route['Wrong tool call arguments'], ['tool-use', 'rules', 'agents-team', 2]);
    assert.deepEqual(route['Python snippet does not compile'], ['coding', 'rules', 'code-team', 2]);
    assert.deepEqual(route['Ignores the function I gave it'], ['tool-use', 'model', 'agents-team', 1]);
    assert.deepEqual(route['The answer was in French'], ['none', 'model', 'feedback-triage', 1]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'triage.json'), 'utf8')).counts.clusters, 8);
    const db = openStore(store);
    try {
      assert.ok(triage.runId);
      assert.equal(db.rollouts(triage.runId).length, 3);
    } finally {
      db.close();
    }
  });

  it('classifies within a dollar budget at the price given, and leaves the rest undecided once it is spent', async () => {
    const dir = scratch();
    const ingest = (extra: string[]) =>
      appsCli(['feedback', 'ingest', ...files, '--config', example('config.yaml'), '--model', `keyed:${example('model.yaml')}`, '--store', join(dir, 'g.db'), '--out', join(dir, 'triage.json'), '--json', '--concurrency', '1', ...extra]);
    // A budget no call can fit in: the first classification spends it, the others never start.
    const tight = await ingest(['--max-dollars', '0.000001', '--price-per-million', '10:10']);
    assert.equal(tight.code, 1);
    const triage = JSON.parse(tight.out) as Triage;
    assert.equal(triage.counts.byModel + triage.counts.undecided, 3);
    assert.ok(triage.counts.undecided >= 2, JSON.stringify(triage.counts));
    assert.ok(triage.clusters.some((c) => /dollars budget spent/.test(c.failure ?? '')));
    const unpriced = await ingest(['--max-dollars', '1']);
    assert.equal(unpriced.code, 2);
    assert.match(unpriced.err, /--max-dollars: needs a price to count dollars by/);
  });

  it('without a model leaves what the rules cannot decide undecided, routed to the triage owners', async () => {
    const dir = scratch();
    const run = await appsCli(['feedback', 'ingest', ...files, '--config', example('config.yaml'), '--out', join(dir, 'triage.json'), '--json']);
    assert.equal(run.code, 0, run.err);
    const triage = JSON.parse(run.out) as Triage;
    assert.equal(triage.counts.undecided, 3);
    const undecided = triage.clusters.filter((c) => c.area === null);
    assert.ok(undecided.every((c) => c.owners.join() === 'feedback-triage' && /no --model/.test(c.failure ?? '')));
  });

  it('turns a confirmed failure into a regression task the qa environment loads, merged into the tasks file', async () => {
    const dir = scratch();
    const triagePath = join(dir, 'triage.json');
    assert.equal((await appsCli(['feedback', 'ingest', ...files, '--config', example('config.yaml'), '--out', triagePath])).code, 0);
    const out = join(dir, 'regressions.yaml');
    writeFileSync(out, 'tasks:\n  - { id: keep/me, env: qa, instruction: Say hi., verifier: { checks: [{ check: answered }] }, golden: { answer: Hello there, friend. }, tags: { domain: x, difficulty: easy } }\n');
    const made = await appsCli(['feedback', 'to-tasks', '--triage', triagePath, '--report', 'feedback.jsonl#3', '--confirmed-by', 'lead', '--out', out]);
    assert.equal(made.code, 0, made.err);
    const tasks = await loadTaskFile(out);
    assert.deepEqual(tasks.map((t) => t.id), ['keep/me', 'feedback/math/feedback-jsonl-3']);
    const task = tasks[1]!;
    assert.equal(task.instruction, 'What is 15% of 80? Reply with the number.');
    assert.equal(task.golden.answer, '12');
    assert.equal(task.metadata?.failedAnswer, '10');

    const vague = await appsCli(['feedback', 'to-tasks', '--triage', triagePath, '--report', 'feedback.jsonl#4', '--confirmed-by', 'lead', '--out', out]);
    assert.equal(vague.code, 2);
    assert.match(vague.err, /says nothing of what the model was asked/);
    const never = await appsCli(['feedback', 'to-tasks', '--triage', triagePath, '--report', 'feedback.jsonl#3', '--confirmed-by', 'lead', '--out', out, '--pattern', '^13$']);
    assert.equal(never.code, 2);
    assert.match(never.err, /could never pass/);
  });

  it('ships eval tasks that match the labelled set and today\'s classifier prompt', () => {
    const config = FeedbackConfig.parse(parseYaml(readFileSync(example('config.yaml'), 'utf8')));
    const labelled = LabelledFeedback.parse(parseYaml(readFileSync(example('labelled.yaml'), 'utf8')));
    const bundled = parseYaml(readFileSync(example('eval-tasks.yaml'), 'utf8')) as { tasks: unknown[] };
    assert.deepEqual(bundled.tasks, JSON.parse(JSON.stringify(feedbackCases({ config, labelled }))));
  });

  it('reads CSV quoting: commas, doubled quotes and newlines inside quotes; flags an unclosed quote', () => {
    const records = parseCsv('id,text\n1,"a, b"\n2,"say ""hi""\nagain"\n3,"open\n');
    assert.deepEqual(records.map((r) => r.fields), [['id', 'text'], ['1', 'a, b'], ['2', 'say "hi"\nagain'], ['3', 'open\n']]);
    assert.deepEqual(records.map((r) => r.line), [1, 2, 3, 5]);
    assert.match(records[3]?.error ?? '', /not closed/);
  });

  it('keeps the reports of two different files that share a name (jan/feedback.jsonl, feb/feedback.jsonl)', async () => {
    const dir = scratch();
    const config = FeedbackConfig.parse(parseYaml(readFileSync(example('config.yaml'), 'utf8')));
    for (const month of ['jan', 'feb']) {
      mkdirSync(join(dir, month));
      writeFileSync(join(dir, month, 'feedback.jsonl'), `${JSON.stringify({ id: 1, text: `${month}: the python snippet does not compile` })}\n${JSON.stringify({ text: `${month}: answered in the wrong language entirely` })}\n`);
    }
    const jan = join(dir, 'jan', 'feedback.jsonl');
    const feb = join(dir, 'feb', 'feedback.jsonl');
    const triage = await runTriage({ files: [jan, feb], config, concurrency: 1 });
    assert.deepEqual(triage.problems, []);
    assert.equal(triage.counts.reports, 4);
    const ids = triage.clusters.flatMap((c) => c.reports.map((r) => r.id)).sort();
    assert.deepEqual(ids, [`${feb}#1`, `${feb}#2`, `${jan}#1`, `${jan}#2`].sort());
    // The same file named twice is still one file's reports, reported once as a repeat each.
    const twice = await runTriage({ files: [jan, jan], config, concurrency: 1 });
    assert.equal(twice.counts.reports, 2);
    assert.deepEqual(twice.problems.map((p) => p.where), ['feedback.jsonl#1', 'feedback.jsonl#2']);
  });

  it('reads files that start with a byte-order mark (spreadsheet exports)', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'survey.csv'), '\uFEFFtext,author\r\nThe tool call had wrong arguments,ann\r\nIt answered in French,bob\r\n');
    writeFileSync(join(dir, 'notes.jsonl'), `\uFEFF${JSON.stringify({ id: 'n1', text: 'first line' })}\n`);
    writeFileSync(join(dir, 'issues.json'), `\uFEFF${JSON.stringify([{ number: 7, title: 'Crash on long input' }])}`);
    const csv = await ingestFile(join(dir, 'survey.csv'));
    assert.deepEqual(csv.problems, []);
    assert.deepEqual(csv.reports.map((r) => [r.body, r.author]), [['The tool call had wrong arguments', 'ann'], ['It answered in French', 'bob']]);
    const jsonl = await ingestFile(join(dir, 'notes.jsonl'));
    assert.deepEqual(jsonl.problems, []);
    assert.deepEqual(jsonl.reports.map((r) => r.id), ['notes.jsonl#n1']);
    assert.deepEqual((await ingestFile(join(dir, 'issues.json'))).reports.map((r) => r.title), ['Crash on long input']);
  });

  // Checking each id against every report before it took over 10 s here; the test's timeout, not a
  // timed assertion, is what catches that coming back.
  it('ingests a file of 50,000 rows and names every repeated id', { timeout: 120_000 }, async () => {
    const dir = scratch();
    const rows = 50_000;
    // Every thousandth row repeats the id of the row before it.
    const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i % 1000 === 999 ? `r${i - 1}` : `r${i}`, text: `report ${i}` }));
    writeFileSync(join(dir, 'big.jsonl'), lines.join('\n'));
    const read = await ingestFile(join(dir, 'big.jsonl'));
    assert.equal(read.rows, rows);
    assert.equal(read.reports.length, rows - 50);
    assert.deepEqual(read.problems.slice(0, 2), [
      { where: 'big.jsonl:1000', message: "id 'r998' appears twice in this file (first at big.jsonl:999); expected each row's id once" },
      { where: 'big.jsonl:2000', message: "id 'r1998' appears twice in this file (first at big.jsonl:1999); expected each row's id once" },
    ]);
    assert.equal(read.problems.length, 50);
  });

  it('when interrupted, cancels the classifier agents, leaves their clusters undecided and stores the run as interrupted', { timeout: 20_000 }, async () => {
    const config = FeedbackConfig.parse(parseYaml(readFileSync(example('config.yaml'), 'utf8')));
    const controller = new AbortController();
    let inFlight = 0;
    // Never answers by itself: only the abort ends a call.
    const model: ModelClient = {
      specificationVersion: 'v1',
      spec: 'test:silent',
      complete: (_request, { signal }) =>
        new Promise<ModelResult>((resolve) => {
          signal?.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false }), { once: true });
          // The three open clusters are all in flight: interrupt now.
          if (++inFlight === 3) controller.abort();
        }),
    };
    const store = openStore(':memory:');
    try {
      const triage = await runTriage({ files, config, model, store, concurrency: 8, signal: controller.signal });
      assert.equal(triage.counts.undecided, 3);
      assert.deepEqual(triage.clusters.filter((c) => c.method === null).map((c) => c.failure), Array<string>(3).fill('cancelled (interrupted)'));
      assert.ok(triage.runId);
      assert.equal(store.getRun(triage.runId)?.status, 'interrupted');
    } finally {
      store.close();
    }
  });
});
