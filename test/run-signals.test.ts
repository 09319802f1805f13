// `gauntlet run` meeting SIGINT and SIGTERM while a rollout's tool hangs and ignores every cancel:
// one signal stops the run gracefully (interrupted, exit 130, one JSON document on stdout) without
// waiting for the hung rollout's deadline, a second ends the process at once; either way
// `--resume` stores every rollout exactly once.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { waitFor } from './support/wait.ts';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];

/** The rollouts' deadline: far longer than the run's grace (10 s) after a signal. */
const DEADLINE_S = 25;

/** Starts a run of the counter tasks whose second increment blocks forever, and waits until it does. */
async function blockedRun() {
  const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-signals-')), 'g.db');
  const args = [...CLI, 'run', '--env', 'counter', '--model', 'oracle', '--epochs', '2', '--concurrency', '1', '--deadline', String(DEADLINE_S), '--store', store, '--json'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAUNTLET_TEST_BLOCK_AT_CALL: '2' } });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await waitFor(() => output.stderr.includes('test: blocked at') || child.exitCode !== null, 'the run to block', 60_000);
  assert.equal(child.exitCode, null, output.stderr);
  return { store, child, output, exited };
}

function storedRun(store: string): { id: string; status: string } {
  const db = new Database(store, { readonly: true });
  try {
    return db.prepare('SELECT id, status FROM runs').get() as { id: string; status: string };
  } finally {
    db.close();
  }
}

function resumeFinishes(store: string, runId: string): void {
  const resumed = spawnSync(process.execPath, [...CLI, 'run', '--resume', runId, '--store', store, '--json'], { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout) as { status: string; rollouts: number; passed: number; missing: number };
  assert.deepEqual({ status: summary.status, rollouts: summary.rollouts, passed: summary.passed, missing: summary.missing }, { status: 'finished', rollouts: 6, passed: 6, missing: 0 });
}

describe('gauntlet run and signals', () => {
  it('one SIGINT: the hung rollout is abandoned after the grace, not its deadline; the run is stored interrupted, stdout one JSON summary, exit 130', { timeout: 120_000 }, async () => {
    const { store, child, output, exited } = await blockedRun();
    const signalled = Date.now();
    child.kill('SIGINT');
    const parsed = (): { runId: string; status: string; rollouts: number; missing: number } | undefined => {
      try {
        return JSON.parse(output.stdout) as never;
      } catch {
        return undefined;
      }
    };
    await waitFor(() => parsed() !== undefined || child.exitCode !== null, 'the summary', 100_000);
    const waited = Date.now() - signalled;
    assert.ok(waited < (DEADLINE_S - 3) * 1000, `the summary came ${waited} ms after the signal: the run waited for the hung rollout's deadline`);
    const summary = parsed()!;
    assert.deepEqual({ status: summary.status, rollouts: summary.rollouts, missing: summary.missing }, { status: 'interrupted', rollouts: 0, missing: 6 });
    assert.match(output.stderr, /interrupted: finishing in-flight work/);
    // The way on names the run and the store it is in: the summary may never be seen after a second Ctrl-C.
    assert.ok(output.stderr.includes(`resume with \`gauntlet run --resume ${summary.runId} --store ${store}\``), output.stderr);
    assert.deepEqual(storedRun(store), { id: summary.runId, status: 'interrupted' });
    // The abandoned rollout's own timers may hold the process until its deadline; then it exits 130.
    const [code, signal] = await exited;
    assert.deepEqual({ code, signal }, { code: 130, signal: null }, output.stderr);
    resumeFinishes(store, summary.runId);
  });

  it('SIGINT then SIGTERM: the second signal, of either kind, ends the process at once; --resume finishes the run', { timeout: 120_000 }, async () => {
    const { store, child, output, exited } = await blockedRun();
    child.kill('SIGINT');
    await waitFor(() => output.stderr.includes('interrupted: finishing in-flight work'), 'the first signal to be taken');
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.deepEqual({ code, signal }, { code: null, signal: 'SIGTERM' }, output.stderr);
    assert.equal(output.stderr.match(/interrupted: finishing/g)?.length, 1, 'the second signal was not taken as another graceful stop');
    const run = storedRun(store);
    assert.equal(run.status, 'running', 'killed before it could say more');
    resumeFinishes(store, run.id);
  });
});
