// The store shared by processes while a run writes to it: maintenance beside a live run, and the
// file taken away from under one. Runs here are real (the CLI in a child process, or the runner);
// a child blocks at a chosen tool call, so it is executing exactly when the other command runs.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RunConfig } from '../src/core/index.ts';
import { executeRun, selectTasks } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterCatalog } from './support/counter-env.ts';
import { functionModel, goldenModel } from './support/models.ts';
import { waitFor } from './support/wait.ts';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];

function tempStore(): string {
  return join(mkdtempSync(join(tmpdir(), 'gauntlet-shared-')), 'g.db');
}

function gauntlet(args: string[]): { code: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function runIds(store: string): string[] {
  const db = new Database(store, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM runs ORDER BY created_at, id').all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

/** A `gauntlet run` in a child process, blocked at its second tool call: executing, lease held, until killed. */
async function blockedRun(store: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...CLI, 'run', '--env', 'counter', '--model', 'oracle', '--epochs', '2', '--concurrency', '1', '--store', store], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, GAUNTLET_TEST_BLOCK_AT_CALL: '2' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the run ended before it blocked: ${stderr}`);
    return stderr.includes('test: blocked at');
  }, 'the child run to block mid-run', 60_000);
  return child;
}

describe('store: maintenance while a run executes in another process', () => {
  it('runs delete --vacuum is refused before deleting anything, naming the run; without --vacuum the other run is deleted', { timeout: 120_000 }, async () => {
    const store = tempStore();
    const finished = gauntlet(['run', '--env', 'counter', '--model', 'oracle', '--store', store]);
    assert.equal(finished.code, 0, finished.err);
    const [old] = runIds(store);
    const child = await blockedRun(store);
    try {
      const executing = runIds(store).find((id) => id !== old)!;
      const vacuum = gauntlet(['runs', 'delete', old!, '--vacuum', '--store', store]);
      assert.equal(vacuum.code, 2, vacuum.err);
      assert.match(vacuum.err, new RegExp(`--vacuum: run ${executing} is being executed by process ${child.pid}.*which would stop that run`));
      assert.deepEqual(runIds(store), [old, executing], 'nothing deleted');
      const plain = gauntlet(['runs', 'delete', old!, '--store', store]);
      assert.equal(plain.code, 0, plain.err);
      assert.deepEqual(runIds(store), [executing]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('store: its file deleted while a run writes to it', () => {
  it('stops the run as interrupted naming it, saves what it stored, and a resume from the saved copy finishes every rollout once', { timeout: 120_000 }, async () => {
    const path = tempStore();
    const config = RunConfig.parse({ envs: ['counter'], model: 'test:golden', epochs: 4, concurrency: 1, seed: 3 });
    let calls = 0;
    // Someone removes the store (an `rm -rf .gauntlet`, a clean-up script) after a few rollouts.
    const model = functionModel('test:golden', async (i, request, signal) => {
      if (++calls === 10) unlinkSync(path);
      return goldenModel.complete(request, { signal });
    });
    const store = openStore(path);
    const summary = await executeRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, model, catalog: counterCatalog });
    const saved = `${path}.rescued-${process.pid}.db`;
    store.close(); // the run was given the failure: closing does not throw it again
    assert.equal(summary.status, 'interrupted');
    assert.match(summary.failure ?? '', new RegExp(`the file was deleted while this process was writing to it, so nothing more is written; everything this process had stored is saved in ${saved.replaceAll('.', '\\.')}`));
    assert.ok(summary.rollouts > 0 && summary.missing > 0, JSON.stringify(summary));
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}-wal`), false, 'no log of the deleted file is left for the next store made there');

    const rescued = openStore(saved);
    assert.equal(rescued.rollouts(summary.runId).length, summary.rollouts, 'every rollout the run counted is in the copy');
    const resumed = await executeRun({ store: rescued, run: { resume: summary.runId }, model: goldenModel, catalog: counterCatalog });
    rescued.close();
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.rollouts, 12);
    const db = new Database(saved, { readonly: true });
    try {
      assert.equal((db.prepare('SELECT COUNT(DISTINCT task_id || epoch) AS n FROM rollouts').get() as { n: number }).n, 12);
    } finally {
      db.close();
    }
  });
});
