// `feedback to-tasks`: a task made from a user's report must fail the answer they complained about
// and pass the right one, and its default check must not pass a wrong answer that merely contains
// the right one (`12` inside `120`).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { FeedbackConfig } from '../src/apps/feedback/areas.ts';
import { EXPECTED_FLAGS, expectedAnswerPattern } from '../src/apps/feedback/expected.ts';
import { feedbackToTask, runTriage, type Triage } from '../src/apps/feedback/triage.ts';
import { Task, type TaskInput } from '../src/core/index.ts';
import { loadTaskFile } from '../src/envs/index.ts';
import { grade } from '../src/envs/qa/test-support.ts';
import { appsCli } from './apps-support.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/feedback/${name}`, import.meta.url));
const scratch = () => mkdtempSync(join(tmpdir(), 'gauntlet-feedback-tasks-'));
const config = () => FeedbackConfig.parse(parseYaml(readFileSync(example('config.yaml'), 'utf8')));

interface Row {
  id: string;
  title?: string;
  text: string;
  prompt?: string;
  response?: string;
  expected?: string;
}

/** A triage of `rows` (one JSONL file), as `feedback ingest` writes it. */
async function triageOf(rows: Row[]): Promise<{ dir: string; triage: Triage; path: string }> {
  const dir = scratch();
  writeFileSync(join(dir, 'f.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const triage = await runTriage({ files: [join(dir, 'f.jsonl')], config: config(), concurrency: 1 });
  const path = join(dir, 'triage.json');
  writeFileSync(path, JSON.stringify(triage));
  return { dir, triage, path };
}

/** Whether the task's verifier, as a run grades it, passes `answer`. */
async function passes(task: TaskInput, answer: string): Promise<boolean> {
  return (await grade(Task.parse(task), { answer })).passed;
}

const arithmetic = (expected: string, response?: string): Row => ({
  id: '1',
  title: 'Bad arithmetic',
  text: 'The arithmetic is wrong.',
  prompt: 'What is 15% of 80?',
  expected,
  ...(response === undefined ? {} : { response }),
});

describe('feedback to-tasks: the default check', () => {
  it('passes the expected number only as a whole number, never inside another number, decimal, fraction or negative', async () => {
    const { triage } = await triageOf([arithmetic('12')]);
    const task = await feedbackToTask({ triage, reportId: 'f.jsonl#1', confirmedBy: 'lead' });
    for (const wrong of ['The answer is 120.', '112', '0.12', 'It is .12', 'It is -12', '12.5', '1/12', '12/5', 'x12', '12,000', '1.2e1… no, 12e3']) {
      assert.equal(await passes(task, wrong), false, wrong);
    }
    for (const right of ['The answer is 12.', '12', '**12**', 'It is 12 km.', '(12)', 'x = 12, so done', '答えは12です']) {
      assert.equal(await passes(task, right), true, right);
    }
  });

  it('matches words at Unicode word boundaries, regex specials literally, and numbers with or without thousands separators', () => {
    const cases: [expected: string, answer: string, passes: boolean][] = [
      ['Paris', 'It is Parisian.', false],
      ['Paris', 'It is PARIS.', true],
      ['Paris.', 'Paris', true],
      ['no', "I don't know", false],
      ["don't", 'I don’t', true],
      ['café', 'un cafe\u0301 !', true],
      ['cafe', 'cafe\u0301', false],
      ['東京', '答えは東京です', true],
      ['Paris', '答えはParisです', true],
      ['New York', 'new\u00a0york city', true],
      ['a.b*c', 'aXb*c', false],
      ['a.b*c', 'so a.b*c it is', true],
      ['C++', 'use C++ here', true],
      ['1,000', '1000 of them', true],
      ['1000', '1 000', true],
      ['1000', '1\u202f000', true],
      ['1,000', '21,000', false],
      ['1,000', '1,000,000', false],
      ['-12', 'it is −12', true],
      ['0.5', '10.5', false],
      ['0.5', '0.55', false],
    ];
    for (const [expected, answer, want] of cases) {
      assert.equal(new RegExp(expectedAnswerPattern(expected), EXPECTED_FLAGS).test(answer), want, `${expected} in ${JSON.stringify(answer)}`);
    }
  });
});

describe('feedback to-tasks: checked against the failed answer', () => {
  it('makes a task that fails the answer the user complained about when that answer contains the right one as a part (120 for 12)', async () => {
    const { triage } = await triageOf([arithmetic('12', 'The answer is 120.')]);
    const task = await feedbackToTask({ triage, reportId: 'f.jsonl#1', confirmedBy: 'lead' });
    assert.equal(await passes(task, 'The answer is 120.'), false);
    assert.equal(await passes(task, '12'), true);
  });

  it('refuses a task whose check would pass the failed answer, saying which answer and what to give instead', async () => {
    const { triage, path, dir } = await triageOf([arithmetic('12', 'Not 12: it is 10.')]);
    await assert.rejects(feedbackToTask({ triage, reportId: 'f.jsonl#1', confirmedBy: 'lead' }), (error: Error) => {
      assert.match(error.message, /^report f\.jsonl#1: the task's check .* also passes the answer the user reported as wrong, "Not 12: it is 10\.", so it could not catch this failure again/);
      assert.match(error.message, /expected --pattern REGEX that the expected answer "12" matches and the failed answer does not/);
      return true;
    });
    // Through the command: nothing is written, and a pattern that tells them apart is taken.
    const out = join(dir, 'regressions.yaml');
    const refused = await appsCli(['feedback', 'to-tasks', '--triage', path, '--report', 'f.jsonl#1', '--confirmed-by', 'lead', '--out', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /could not catch this failure again/);
    assert.equal(existsSync(out), false);
    const anchored = await appsCli(['feedback', 'to-tasks', '--triage', path, '--report', 'f.jsonl#1', '--confirmed-by', 'lead', '--out', out, '--pattern', '^\\s*12\\s*$']);
    assert.equal(anchored.code, 0, anchored.err);
    assert.deepEqual((await loadTaskFile(out)).map((t) => t.metadata?.failedAnswer), ['Not 12: it is 10.']);
  });

  it('refuses a --pattern that passes the failed answer, naming the flag', async () => {
    const { triage } = await triageOf([arithmetic('12', '10')]);
    await assert.rejects(feedbackToTask({ triage, reportId: 'f.jsonl#1', confirmedBy: 'lead', pattern: '1' }), (error: Error) => /^--pattern: the task's check \/1\/i also passes the answer the user reported as wrong, "10"/.test(error.message));
  });
});

describe('feedback to-tasks: bad input', () => {
  it('keeps a report that repeats another\'s text about a different question, so its own task can be made', async () => {
    const same = { title: 'Bad arithmetic', text: 'The arithmetic is wrong.' };
    const { triage } = await triageOf([
      { id: '1', ...same, prompt: 'What is 15% of 80?', expected: '12', response: '10' },
      { id: '2', ...same, prompt: 'What is 2+2?', expected: '4', response: '5' },
      { id: '3', ...same, prompt: 'What is 2+2?', expected: '4', response: '5' },
    ]);
    assert.equal(triage.counts.duplicates, 1);
    const task = await feedbackToTask({ triage, reportId: 'f.jsonl#2', confirmedBy: 'lead' });
    assert.equal(task.instruction, 'What is 2+2?');
    // The real repeat is named as such, with the report it repeats among those to use.
    await assert.rejects(feedbackToTask({ triage, reportId: 'f.jsonl#3', confirmedBy: 'lead' }), /--report: report 'f\.jsonl#3' was merged as an exact duplicate into cluster c1 \(expected the id of the report it repeats: one of f\.jsonl#1, f\.jsonl#2\)/);
  });

  it('refuses an empty --prompt, --expect or --pattern instead of falling back to the report\'s own', async () => {
    const { path, dir } = await triageOf([arithmetic('12', '10')]);
    for (const flag of ['--prompt', '--expect', '--pattern']) {
      const run = await appsCli(['feedback', 'to-tasks', '--triage', path, '--report', 'f.jsonl#1', '--confirmed-by', 'lead', '--out', join(dir, 'out.yaml'), flag, ' ']);
      assert.equal(run.code, 2, flag);
      assert.match(run.err, new RegExp(`^${flag}: empty`), flag);
    }
    assert.equal(existsSync(join(dir, 'out.yaml')), false);
  });

  it('refuses one --expect for several reports rather than giving each of them the same answer', async () => {
    const { path, dir } = await triageOf([arithmetic('12', '10'), { ...arithmetic('4', '5'), id: '2', prompt: 'What is 2+2?' }]);
    const run = await appsCli(['feedback', 'to-tasks', '--triage', path, '--report', 'f.jsonl#1', '--report', 'f.jsonl#2', '--confirmed-by', 'lead', '--out', join(dir, 'out.yaml'), '--expect', '12']);
    assert.equal(run.code, 2);
    assert.match(run.err, /^--expect: given with 2 reports; it would replace the expected answer of each of them/);
  });

  it('names the line of a damaged triage file', async () => {
    const dir = scratch();
    const path = join(dir, 'triage.json');
    writeFileSync(path, '{\n  "version": 1,\n  "clusters": [\n    {oops}\n  ]\n}\n');
    const run = await appsCli(['feedback', 'to-tasks', '--triage', path, '--report', 'f.jsonl#1', '--confirmed-by', 'lead', '--out', join(dir, 'out.yaml')]);
    assert.equal(run.code, 2);
    assert.equal(run.err.startsWith(`${path}:4: not JSON:`), true, run.err);
    assert.match(run.err, /expected a triage document written by `gauntlet feedback ingest`/);
  });
});
