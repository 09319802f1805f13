import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { FeedbackConfig } from '../src/apps/feedback/areas.ts';
import { parseCsv } from '../src/apps/feedback/ingest.ts';
import { feedbackCases, LabelledFeedback, type Triage } from '../src/apps/feedback/triage.ts';
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
});
