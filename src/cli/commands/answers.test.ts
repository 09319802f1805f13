import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { CliIo } from '../io.ts';
import { main } from '../main.ts';
import { writeLargeRun } from '../../review/fixtures.ts';
import { openStore } from '../../store/index.ts';
import { renderAnswers, wrap, type AnswersDocument } from './answers.ts';

const funQuestions = fileURLToPath(new URL('../../../examples/fun-questions.yaml', import.meta.url));

function captureIo(): CliIo & { out: string; err: string } {
  const env: Record<string, string | undefined> = { COLUMNS: '72' };
  const io = { out: '', err: '', interactive: false, env } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return io;
}

/** The CLI in-process with an injected io. */
async function cli(args: string[]) {
  const io = captureIo();
  return { code: await main(['node', 'gauntlet', ...args], io), out: io.out, err: io.err };
}

describe('gauntlet answers', () => {
  const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-answers-')), 'g.db');

  it('shows every run\'s final answers to the fun questions, grouped by task', { timeout: 60_000 }, async () => {
    for (const model of ['oracle', 'oracle', 'noop']) {
      const run = await main(['node', 'gauntlet', 'run', '--tasks-file', funQuestions, '--model', model, '--store', store, '--json'], captureIo());
      assert.equal(run, 0);
    }
    const { code, out, err } = await cli(['answers', '--tasks-file', funQuestions, '--store', store, '--json']);
    assert.equal(code, 0, err);
    const doc = JSON.parse(out) as AnswersDocument;
    assert.equal(doc.runs.length, 3);
    assert.ok(doc.tasks.length >= 12);
    const strawberry = doc.tasks.find((t) => t.id === 'fun/strawberry-letters')!;
    assert.match(strawberry.instruction ?? '', /strawberry/);
    assert.deepEqual(
      strawberry.answers.map((a) => [a.model, a.passed]),
      [
        ['noop', false],
        ['oracle', true],
        ['oracle', true],
      ],
    );
    assert.equal(strawberry.answers[0]?.answer, 'Done.');
    assert.deepEqual(strawberry.answers[0]?.failedChecks, ['counts the letters']);
    assert.match(strawberry.answers[1]?.answer ?? '', /the answer is 3/);
    // newest run first within a model
    assert.ok((strawberry.answers[1]?.createdAt ?? '') >= (strawberry.answers[2]?.createdAt ?? ''));
    // multi-turn: the final answer is the one to the last turn
    const cat = doc.tasks.find((t) => t.id === 'fun/remember-the-name')!;
    assert.deepEqual(cat.followUps, ['What is my cat called, and what did you just tell me about cats?']);
    assert.match(cat.answers.find((a) => a.model === 'oracle')?.answer ?? '', /Biscuit/);
  });

  it('prints the answers wrapped for the terminal, with pass/fail, date and run', async () => {
    const { code, out, err } = await cli(['answers', '--task', 'fun/strawberry-letters', '--task', 'fun/unknown', '--store', store]);
    assert.equal(code, 0, err);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines[0], 'fun/strawberry-letters');
    assert.ok(lines.every((l) => l.length <= 72), out);
    assert.match(out, /\n {2}✗ fail {2}noop {4}\d{4}-\d\d-\d\d \d\d:\d\d {2}run_\S+ #0\n {6}Done\.\n {6}failed: counts the letters\n/);
    assert.match(out, / {2}✓ pass {2}oracle {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}run_\S+ #0\n {6}s-t-r-a-w-b-e-r-r-y has an r in positions 3, 8 and 9, so the\n {6}answer is 3\.\n/);
    assert.match(out, /fun\/unknown\n {2}\(no stored answers\)\n$/);
  });

  it('filters by model and needs at least one task', async () => {
    const only = JSON.parse((await cli(['answers', '--task', 'fun/sally-sisters', '--model', 'noop', '--store', store, '--json'])).out) as AnswersDocument;
    assert.deepEqual(only.tasks[0]?.answers.map((a) => a.model), ['noop']);
    const none = await cli(['answers', '--store', store]);
    assert.equal(none.code, 2);
    assert.match(none.err, /--task: no tasks given \(expected --task ID \(repeatable\) or --tasks-file FILE\)/);
  });

  it('wraps long words and keeps paragraphs', () => {
    assert.deepEqual(wrap('aaaa bbbbbbbbbb c\n\nd', 4), ['aaaa', 'bbbb', 'bbbb', 'bb c', '', 'd']);
  });

  it('shows escape sequences in a model\'s answer as text and never sends them to the terminal', () => {
    const doc: AnswersDocument = {
      store: 'g.db',
      runs: [{ id: 'run_1', model: 'evil\u001b]0;owned\u0007', createdAt: '2026-01-01T00:00:00.000Z' }],
      tasks: [
        {
          id: 'fun/q',
          instruction: 'Say hi\r\nplease',
          followUps: [],
          answers: [
            {
              model: 'evil\u001b]0;owned\u0007',
              runId: 'run_1',
              createdAt: '2026-01-01T00:00:00.000Z',
              epoch: 0,
              status: 'scored',
              passed: false,
              terminationReason: 'submitted',
              answer: 'hi\u001b[2J\u001b[1A\rPASS \u202eeb\nsecond line',
              failedChecks: ['says\nhi\u001b[31m'],
              error: null,
            },
          ],
        },
      ],
    };
    const out = renderAnswers(doc, 72);
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    assert.ok(out.includes('hi\\x1b[2J\\x1b[1A\\x0dPASS \\u202eeb'));
    assert.ok(out.includes('      second line'), 'a newline in the answer still starts a new line');
    assert.ok(out.includes('failed: says\\x0ahi\\x1b[31m'));
    assert.ok(out.includes('  Say hi\n  please'));
  });

  it("keeps an infra error's whole cause, the reason on its later lines included", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-answers-error-')), 'g.db');
    const written = openStore(path);
    const runId = writeLargeRun(written, { runId: 'run_infra', tasks: 1, epochs: 1 });
    const scored = written.rollouts(runId)[0]!;
    const cause = 'POST http://127.0.0.1:9/v1: HTTP 400:\nthe prompt is 40,000 tokens; the model allows 32,768';
    written.commitRollout({ ...scored, status: 'infra_error', terminationReason: 'infra_error', score: null, passed: null, rewardTerms: [], verifier: null, finalAnswer: null, error: { source: 'model', message: cause } });
    written.close();
    const doc = JSON.parse((await cli(['answers', '--task', scored.taskId, '--store', path, '--json'])).out) as AnswersDocument;
    assert.equal(doc.tasks[0]?.answers[0]?.error, `model: ${cause}`);
    const { out } = await cli(['answers', '--task', scored.taskId, '--store', path]);
    assert.match(out, /\(no answer: model: POST http:\/\/127\.0\.0\.1:9\/v1: HTTP 400:\n {6}the prompt is 40,000 tokens; the model allows 32,768\)/);
  });
});
