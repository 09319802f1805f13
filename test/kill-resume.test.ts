// A run killed with SIGKILL at any point — before its first rollout is stored, mid-run, or during
// its last rollout — resumes to every rollout exactly once, with exactly its original settings.
// The child blocks at a chosen tool call, so each kill point is exact, not a race with a timer.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];
const EPOCHS = 6;
const TOTAL = 3 * EPOCHS;
// Settings a resumed run must keep without being told again.
const SETTINGS = ['--context-budget', '50000', '--keep-turns', '3', '--request-timeout', '7', '--deadline', '30', '--max-output-bytes', '123456', '--group-size', '2'];

interface Counts {
  runs: number;
  rollouts: number;
  toolCalls: number;
}

function counts(store: string): Counts {
  try {
    const db = new Database(store, { readonly: true, fileMustExist: true });
    try {
      const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      return { runs: n('SELECT COUNT(*) AS n FROM runs'), rollouts: n('SELECT COUNT(*) AS n FROM rollouts'), toolCalls: n(`SELECT COUNT(*) AS n FROM events WHERE type = 'tool_call'`) };
    } finally {
      db.close();
    }
  } catch {
    // The file or its tables do not exist yet.
    return { runs: 0, rollouts: 0, toolCalls: 0 };
  }
}

/** Polls until `ready` holds (the child reached its blocking point), or fails naming what it saw. */
async function until(store: string, child: ChildProcess, ready: (c: Counts) => boolean, what: string): Promise<Counts> {
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const give = Date.now() + 60_000;
  for (;;) {
    const c = counts(store);
    // Blocked is announced on stderr; the store must also show the state we want to kill in.
    if (ready(c) && stderr.join('').includes('test: blocked at')) return c;
    if (child.exitCode !== null) throw new Error(`the run ended before ${what}: ${stderr.join('')}`);
    if (Date.now() > give) throw new Error(`never reached ${what}: ${JSON.stringify(c)} ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

function storedConfig(store: string): string {
  const db = new Database(store, { readonly: true });
  try {
    return JSON.stringify((JSON.parse((db.prepare('SELECT json FROM runs').get() as { json: string }).json) as { config: unknown }).config);
  } finally {
    db.close();
  }
}

// With concurrency 1 the oracle makes two increments per rollout, one rollout after another, so
// increment call N belongs to rollout ⌈N/2⌉.
const points = [
  { name: 'before the first rollout is stored', blockAt: 1, ready: (c: Counts) => c.runs === 1 && c.rollouts === 0 },
  { name: 'mid-run', blockAt: 2 * 7 + 1, ready: (c: Counts) => c.rollouts === 7 },
  { name: 'during the last rollout', blockAt: 2 * (TOTAL - 1) + 2, ready: (c: Counts) => c.rollouts === TOTAL - 1 },
];

describe('kill and resume', () => {
  for (const point of points) {
    it(`after SIGKILL ${point.name}, --resume stores every rollout exactly once with the original settings`, async () => {
      const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-kill-')), 'g.db');
      const args = [...CLI, 'run', '--env', 'counter', '--model', 'oracle', '--epochs', String(EPOCHS), '--concurrency', '1', '--seed', '5', ...SETTINGS, '--store', store];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GAUNTLET_TEST_BLOCK_AT_CALL: String(point.blockAt) } });
      const atKill = await until(store, child, point.ready, point.name);
      const listed = () => JSON.parse(spawnSync(process.execPath, [...CLI, 'runs', '--json', '--store', store], { encoding: 'utf8' }).stdout) as { status: string; executing?: boolean }[];
      assert.deepEqual(listed().map((r) => [r.status, r.executing]), [['running', true]]);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal(counts(store).rollouts, atKill.rollouts, 'nothing was stored after the kill');
      const before = storedConfig(store);

      const db = new Database(store, { readonly: true });
      const runId = (db.prepare('SELECT id FROM runs').get() as { id: string }).id;
      db.close();
      // Still 'running' in the store, but the listing says nobody executes it any more.
      assert.deepEqual(listed().map((r) => [r.status, r.executing]), [['running', false]]);
      assert.match(spawnSync(process.execPath, [...CLI, 'runs', '--store', store], { encoding: 'utf8' }).stdout, new RegExp(`${runId}  running .*\\(no process executes it: resume with --resume ${runId}\\)`));
      // Behaviour-changing flags are refused on resume: the stored run is the spec.
      const refused = spawnSync(process.execPath, [...CLI, 'run', '--resume', runId, '--deadline', '5', '--store', store], { encoding: 'utf8' });
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /--resume: a resumed run uses its stored settings; got --deadline/);

      const resumed = spawnSync(process.execPath, [...CLI, 'run', '--resume', runId, '--store', store, '--json'], { encoding: 'utf8' });
      assert.equal(resumed.status, 0, resumed.stderr);
      const summary = JSON.parse(resumed.stdout) as { rollouts: number; missing: number; passRate: number; status: string; errors: number };
      assert.deepEqual({ status: summary.status, rollouts: summary.rollouts, missing: summary.missing, passRate: summary.passRate, errors: summary.errors }, { status: 'finished', rollouts: TOTAL, missing: 0, passRate: 1, errors: 0 });

      const after = new Database(store, { readonly: true });
      const distinct = after.prepare('SELECT COUNT(DISTINCT task_id || \'#\' || epoch) AS n, COUNT(*) AS total FROM rollouts').get() as { n: number; total: number };
      const withoutCalls = after.prepare(`SELECT COUNT(*) AS n FROM rollouts r WHERE NOT EXISTS (SELECT 1 FROM model_calls c WHERE c.rollout_id = r.id AND c.attempt = json_extract(r.json, '$.attempt'))`).get() as { n: number };
      after.close();
      assert.deepEqual(distinct, { n: TOTAL, total: TOTAL });
      assert.equal(withoutCalls.n, 0, 'every stored rollout has the model calls of the attempt that counted');
      // The resumed run ran with exactly the settings it started with, read from the store.
      assert.equal(storedConfig(store), before);
      const config = JSON.parse(before) as Record<string, unknown>;
      assert.deepEqual(
        { context: config.context, requestTimeoutMs: config.requestTimeoutMs, deadlineMs: config.deadlineMs, maxOutputBytes: config.maxOutputBytes, groupSize: config.groupSize },
        { context: { budgetTokens: 50000, keepRecentTurns: 3 }, requestTimeoutMs: 7000, deadlineMs: 30000, maxOutputBytes: 123456, groupSize: 2 },
      );
    });
  }
});

describe('SIGINT during eval', () => {
  it('stores the run in progress as interrupted, prints how to finish the eval, writes no report, and exits 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-eval-int-'));
    const store = join(dir, 'g.db');
    const report = join(dir, 'report.json');
    // oracle blocks at its third increment (its second rollout); noop never starts.
    const args = [...CLI, 'eval', '--env', 'counter', '--model', 'oracle', '--model', 'noop', '--epochs', '2', '--concurrency', '1', '--no-validate', '--store', store, '--out', report];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GAUNTLET_TEST_BLOCK_AT_CALL: '3' } });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    await until(store, child, (c) => c.runs === 1 && c.rollouts === 1, 'the second rollout of the first model');
    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];

    assert.equal(code, 130, stderr);
    const db = new Database(store, { readonly: true });
    const runs = db.prepare('SELECT id, status FROM runs').all() as { id: string; status: string }[];
    db.close();
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'interrupted', 'not left running');
    const runId = runs[0]!.id;
    assert.ok(
      stderr.includes(`gauntlet: interrupted: run ${runId} (oracle) stopped with 1 of 6 rollouts stored; not started: noop; no report was written; finish the eval and write its report with \`gauntlet eval --resume ${runId} --store ${store}\``),
      stderr,
    );
    assert.equal(existsSync(report), false);

    // The command it printed finishes the run, runs the model never started, and writes the report.
    const resumed = spawnSync(process.execPath, [...CLI, 'eval', '--resume', runId, '--store', store, '--out', report, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const written = JSON.parse(resumed.stdout) as { models: { runId: string; model: string; overall: { rollouts: number } }[] };
    assert.deepEqual(written.models.map((m) => [m.model, m.overall.rollouts]), [['oracle', 6], ['noop', 6]]);
    assert.equal(written.models[0]!.runId, runId);
    assert.ok(existsSync(report));
  });
});
