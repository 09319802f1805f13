// Every bad input Foundation 2 names gets one clear message (the flag, file or field, and what was
// expected), the right exit code, and no stack trace; a hung endpoint and a defect are reported
// as what they are; a disk that fills mid-run leaves a resumable run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli } from '../support/cli.ts';
import { TYPESCRIPT_NODE_ARGS } from '../support/typescript.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'gauntlet-bad-'));
const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];
// Room for the schema (every migration) and a few rollouts, not for 45 rollouts of model calls.
const FULL_DISK_BYTES = 512 * 1024;

function expectClear(result: { code: number; err: string; out: string }, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.err);
  assert.match(result.err, pattern);
  assert.doesNotMatch(result.err, /^\s+at /m, 'no stack trace');
  assert.equal(result.err.trim().split('\n')[0]!.startsWith('gauntlet: '), true, result.err);
}

describe('bad input: one clear message, exit 2', () => {
  const run = (...extra: string[]) => ['run', '--env', 'mail', '--model', 'oracle', '--store', join(tmp(), 'g.db'), ...extra];
  const cases: [string, () => string[], RegExp][] = [
    ['a deadline above the timer limit', () => run('--deadline', '3000000'), /--deadline: got "3000000" \(expected a number between 0.001 and 2147483.647\)/],
    ['absurd epochs', () => run('--epochs', '100000000'), /--epochs: got "100000000" \(expected a whole number from 1 to 10000\)/],
    ['NaN', () => run('--temperature', 'NaN'), /--temperature: got "NaN" \(expected a number between 0 and 2\)/],
    ['Infinity', () => run('--request-timeout', 'Infinity'), /--request-timeout: got "Infinity"/],
    ['an unknown scaffold', () => run('--scaffold', 'fancy'), /--scaffold: got "fancy" \(expected one of interleaved, drop-thinking, text-tools\)/],
    ['a request timeout not shorter than the deadline', () => run('--deadline', '5', '--request-timeout', '5'), /--request-timeout: 5000 ms is not shorter than the 5000 ms deadline/],
    ['a key in the base URL', () => ['run', '--env', 'mail', '--model', 'openai:http://127.0.0.1:9/v1?api_key=sk-live-123456#m', '--store', join(tmp(), 'g.db')], /--model: .*query parameter 'api_key'/],
    ['credentials in --base-url', () => ['run', '--env', 'mail', '--model', 'minimax:M2', '--base-url', 'http://user:sk-pass-999@127.0.0.1:9/v1', '--store', join(tmp(), 'g.db')], /--base-url: .*user info/],
    ['--keep-turns without a context budget', () => run('--keep-turns', '2'), /--keep-turns: only applies with --context-budget/],
    ['an empty store path', () => ['run', '--env', 'mail', '--model', 'oracle', '--task', 'mail/kestrel-launch-date', '--store', ''], /store : the path is empty/],
    ['a store under /proc', () => ['run', '--env', 'mail', '--model', 'oracle', '--task', 'mail/kestrel-launch-date', '--store', '/proc/self/g.db'], /store \/proc\/self\/g.db: is inside a kernel file system/],
    ['a store that is a directory', () => ['runs', '--store', tmp()], /is a directory/],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, async () => {
      const result = await cli(args());
      expectClear(result, 2, pattern);
      assert.doesNotMatch(result.err, /sk-live-123456|sk-pass-999/, 'the secret is not echoed');
    });
  }

  it('a corrupt store file', async () => {
    const path = join(tmp(), 'notes.db');
    writeFileSync(path, 'not a database, just text\n'.repeat(500));
    expectClear(await cli(['runs', '--store', path]), 2, new RegExp(`store ${path}: not a SQLite database, or a corrupt one`));
  });

  it('duplicate task ids in a task set', async () => {
    const dir = tmp();
    const task = (n: number) => `- id: notes/dup\n  env: notes\n  instruction: "Task ${n}."\n  verifier: { checks: [{ check: table_unchanged, table: pages }] }\n  golden: { steps: [] }\n  tags: { domain: d, difficulty: easy }\n`;
    writeFileSync(join(dir, 'tasks.yaml'), task(1) + task(2));
    const result = await cli(['run', '--tasks-file', join(dir, 'tasks.yaml'), '--model', 'oracle', '--store', join(dir, 'g.db')]);
    expectClear(result, 2, /task notes\/dup: the id appears twice: in .*tasks\.yaml \(task 1\) and in .*tasks\.yaml \(task 2\)/);
  });

  it('a task that cannot run as written', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'tasks.yaml'), `id: notes/bad\nenv: notes\ninstruction: "Do it."\nverifier: { checks: [{ check: no_such_check }] }\ngolden: { steps: [] }\ntags: { domain: d, difficulty: easy }\n`);
    const result = await cli(['run', '--tasks-file', join(dir, 'tasks.yaml'), '--model', 'oracle', '--store', join(dir, 'g.db')]);
    expectClear(result, 2, /task notes\/bad: cannot run as written .*\n\s+\S+\.yaml:\d+: verifier\.checks\.0: unknown check "no_such_check"/);
  });

  it('a config file with a value out of range names the file and field', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'run.yaml'), 'envs: [mail]\nmodel: oracle\ndeadlineMs: 99999999999\n');
    const result = await cli(['run', '--config', join(dir, 'run.yaml'), '--store', join(dir, 'g.db')]);
    expectClear(result, 2, /run\.yaml: deadlineMs: got 99999999999 \(expected a deadline in ms of at most 2,147,483,647\)/);
  });

  it('a config file with NaN (.nan in YAML)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'run.yaml'), 'envs: [mail]\nmodel: oracle\nsampling: { temperature: .nan }\n');
    const result = await cli(['run', '--config', join(dir, 'run.yaml'), '--store', join(dir, 'g.db')]);
    expectClear(result, 2, /run\.yaml: sampling\.temperature: got NaN \(expected a finite number\)/);
  });
});

describe('stores that cannot be written', () => {
  const bwrap = spawnSync('bwrap', ['--version']).status === 0;

  it('a read-only store gives one clear error, exit 2', { skip: bwrap ? false : 'needs bubblewrap (installed by the test command)' }, () => {
    const dir = tmp();
    const path = join(dir, 'g.db');
    assert.equal(spawnSync(process.execPath, [...CLI, 'run', '--env', 'counter', '--model', 'oracle', '--store', path], { encoding: 'utf8' }).status, 0);
    // The same file, seen read-only (a root user ignores file modes, so bind it read-only).
    const result = spawnSync('bwrap', ['--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--ro-bind', dir, dir, process.execPath, ...CLI, 'run', '--env', 'counter', '--model', 'oracle', '--store', path], { encoding: 'utf8' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`gauntlet: store ${path}: cannot write .* read-only`));
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });

  it('a disk that fills mid-run stops the run as interrupted (exit 1), and --resume finishes it elsewhere', { skip: bwrap ? false : 'needs bubblewrap (installed by the test command)' }, () => {
    // A small file system: enough for the run to start, not for 45 rollouts of model calls.
    const out = tmp();
    const script = `"$NODE" ${CLI.join(' ')} run --env counter --model oracle --epochs 15 --concurrency 1 --store /gauntlet-full/g.db --json; echo "exit $?"; cp /gauntlet-full/g.db* "$OUT"/`;
    const result = spawnSync('bwrap', ['--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--size', String(FULL_DISK_BYTES), '--tmpfs', '/gauntlet-full', '--chdir', process.cwd(), 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, OUT: out, NODE: process.execPath },
    });
    assert.match(result.stdout, /exit 1\s*$/, result.stderr);
    assert.match(result.stderr, /store \/gauntlet-full\/g\.db: the disk \(or the store's size limit\) is full while .*--resume/);
    const summary = JSON.parse(result.stdout.replace(/exit 1\s*$/, '')) as { status: string; rollouts: number; failure: string };
    assert.equal(summary.status, 'interrupted');
    assert.ok(summary.rollouts > 0 && summary.rollouts < 45, `stopped part-way (${summary.rollouts})`);
    // Copied out of the full disk, the store resumes to every rollout exactly once.
    const path = join(out, 'g.db');
    const db = new Database(path, { readonly: true });
    const runId = (db.prepare('SELECT id FROM runs').get() as { id: string }).id;
    db.close();
    const resumed = spawnSync(process.execPath, [...CLI, 'run', '--resume', runId, '--store', path, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const done = JSON.parse(resumed.stdout) as { rollouts: number; missing: number };
    assert.deepEqual({ rollouts: done.rollouts, missing: done.missing }, { rollouts: 45, missing: 0 });
  });
});

describe('failures reported as what they are', () => {
  let silent: Server;
  let url: string;
  before(async () => {
    // An endpoint that accepts requests and never answers.
    silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/v1`;
  });
  after(async () => {
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('a hanging endpoint is infra_error under default settings, not the model running out of time', async () => {
    const store = join(tmp(), 'g.db');
    const result = await cli(['run', '--env', 'mail', '--task', 'mail/kestrel-launch-date', '--model', `openai:${url}#m`, '--deadline', '2', '--store', store, '--json']);
    // Nothing could be scored, so the run has no result: exit 1, not a 0% pass rate.
    assert.equal(result.code, 1, result.err);
    const summary = JSON.parse(result.out) as { infraErrors: number; scored: number; terminationReasons: Record<string, number> };
    assert.deepEqual({ infra: summary.infraErrors, scored: summary.scored, deadline: summary.terminationReasons.deadline }, { infra: 1, scored: 0, deadline: 0 });
    const db = new Database(store, { readonly: true });
    const rollout = JSON.parse((db.prepare('SELECT json FROM rollouts').get() as { json: string }).json) as { error: { source: string; kind: string; message: string }; attempt: number };
    db.close();
    assert.equal(rollout.error.source, 'model');
    assert.equal(rollout.error.kind, 'silent_endpoint');
    assert.equal(rollout.attempt, 3, 'retried as infrastructure (default 3 attempts)');
  });

  it('an environment whose check throws gives status error, listed in the summary, exit 1', () => {
    const store = join(tmp(), 'g.db');
    const result = spawnSync(process.execPath, [...CLI, 'run', '--env', 'counter_broken', '--model', 'oracle', '--store', store], { encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /3 rollouts, 0 scored, 0 infra errors, 3 errors/);
    assert.match(result.stdout, /ERRORS \(defects in environment code; not scored, not retried\):\n\s+counter_broken\/a #0 .*check explodes .*crashed: Cannot read properties of undefined/);
    const shown = spawnSync(process.execPath, [...CLI, 'show', JSON.parse(spawnSync(process.execPath, [...CLI, 'runs', '--json', '--store', store], { encoding: 'utf8' }).stdout)[0].id, '--store', store], { encoding: 'utf8' });
    assert.equal(shown.status, 1);
    assert.match(shown.stdout, /ERROR\s+counter_broken\/a #0/);
  });
});
