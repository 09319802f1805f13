// A run whose setup refuses the caller's input (a script, user script or key that is not there)
// before any rollout starts: a new run leaves nothing in the store, a resumed run keeps everything.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { InputError, RunConfig } from '../core/index.ts';
import { openStore, type SqliteStore } from '../store/index.ts';
import { goldenModel } from '../../test/support/models.ts';
import { selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gauntlet-setup-'));
}

const newRun = (over: Partial<RunConfig>) => {
  const config = RunConfig.parse({ envs: ['mail'], taskIds: ['mail/kestrel-launch-date'], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, ...over });
  return { resolved: { config, tasks: selectTasks(config) } };
};

/** What the store file holds, rows counted by table (through a connection of its own): what a refused run must not add to. */
function rowCounts(store: SqliteStore): Record<string, number> {
  const db = new Database(store.path, { readonly: true });
  try {
    const tables = ['runs', 'run_tasks', 'tasks', 'run_leases', 'rollouts', 'model_calls', 'events'];
    return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

const script = (dir: string, name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('a new run refused during setup', () => {
  const dir = tempDir();
  const cases: [string, () => Partial<RunConfig>, number | 'auto', RegExp][] = [
    ['a script file that is not there', () => ({ model: `scripted:${join(dir, 'missing.yaml')}` }), 0, /missing\.yaml: cannot read the script/],
    ['an invalid script file', () => ({ model: `scripted:${script(dir, 'bad.yaml', 'turns: 5\n')}` }), 0, /bad\.yaml: invalid content/],
    ['a user script that is not there', () => ({ user: `scripted:${join(dir, 'no-user.yaml')}` }), 0, /no-user\.yaml: cannot read the script/],
    ['a key that is not set', () => ({ model: 'minimax:MiniMax-M2' }), 0, /MINIMAX_API_KEY/],
    ['a script file that is not there, found by rollout threads building their clients', () => ({ model: `scripted:${join(dir, 'missing.yaml')}` }), 1, /missing\.yaml: cannot read the script/],
  ];
  for (const [what, over, threads, message] of cases) {
    it(`leaves nothing of the run in the store and reports the input error: ${what}`, async () => {
      const store = openStore(join(tempDir(), 'g.db'));
      try {
        // Another run already there shares the task: it and its stored task stay.
        const kept = await executeRun({ store, run: newRun({}), modelEnvironment: { env: {} }, threads: 0 });
        const before = rowCounts(store);
        await assert.rejects(executeRun({ store, run: newRun(over()), modelEnvironment: { env: {} }, threads }), (e: unknown) => e instanceof InputError && message.test(e.message));
        assert.deepEqual(store.listRuns().map((r) => r.id), [kept.runId]);
        assert.deepEqual(rowCounts(store), before);
        assert.equal(store.runTasks(kept.runId).length, 1);
      } finally {
        store.close();
      }
    });
  }

  it('leaves nothing when threads are asked for with in-process objects injected', async () => {
    const store = openStore(join(tempDir(), 'g.db'));
    try {
      await assert.rejects(executeRun({ store, run: newRun({}), model: goldenModel, threads: 2 }), (e: unknown) => e instanceof InputError && e.where === 'threads');
      assert.deepEqual(store.listRuns(), []);
    } finally {
      store.close();
    }
  });
});

describe('a resumed run refused during setup', () => {
  it('keeps the run and everything it stored, to be resumed once the input is fixed', async () => {
    const dir = tempDir();
    const path = script(dir, 'turns.yaml', 'turns:\n  - content: done\n');
    const store = openStore(join(dir, 'g.db'));
    try {
      const first = await executeRun({ store, run: newRun({ model: `scripted:${path}` }), modelEnvironment: { env: {} }, threads: 0 });
      const before = rowCounts(store);
      renameSync(path, `${path}.moved`);
      await assert.rejects(executeRun({ store, run: { resume: first.runId }, modelEnvironment: { env: {} }, threads: 0 }), /turns\.yaml: cannot read the script/);
      assert.deepEqual(store.listRuns().map((r) => r.id), [first.runId]);
      assert.deepEqual(rowCounts(store), before);
      renameSync(`${path}.moved`, path);
      const resumed = await executeRun({ store, run: { resume: first.runId }, modelEnvironment: { env: {} }, threads: 0 });
      assert.equal(resumed.status, 'finished');
      assert.equal(resumed.rollouts, 1);
    } finally {
      store.close();
    }
  });
});
