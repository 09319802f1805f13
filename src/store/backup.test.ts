import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { StoreError } from '../core/index.ts';
import { writeLargeRun, writeLongTrajectory } from '../review/fixtures.ts';
import { cli } from '../../test/support/cli.ts';
import { backupStore, checkStore } from './backup.ts';
import { openStore } from './index.ts';

function storeWithRuns(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-backup-'));
  const path = join(dir, 'g.db');
  const store = openStore(path);
  writeLargeRun(store, { runId: 'run_a', tasks: 10, epochs: 3 });
  writeLongTrajectory(store, { runId: 'run_b', turns: 6 });
  store.close();
  return { dir, path };
}

/**
 * Writes to the store from another thread until told to stop: each transaction adds a run and
 * exactly ROLLOUTS_PER_RUN rollouts of it, so a copy that caught a transaction halfway shows it.
 */
const ROLLOUTS_PER_RUN = 40;
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 5000 });
const run = db.prepare("INSERT INTO runs (id, created_at, status, json) VALUES (?, '2025-01-01T00:00:00Z', 'finished', '{}')");
const rollout = db.prepare("INSERT INTO rollouts (id, run_id, task_id, epoch, status, termination_reason, json) VALUES (?, ?, 't', ?, 'scored', 'answered', '{}')");
const write = db.transaction((i) => {
  run.run('run_w' + i);
  for (let e = 0; e < workerData.perRun; e++) rollout.run('ro_w' + i + '_' + e, 'run_w' + i, e);
});
let stop = false;
parentPort.on('message', () => { stop = true; });
let i = 0;
(function loop() {
  for (let k = 0; k < 5 && !stop; k++) write(i++);
  if (i === 5) parentPort.postMessage('writing');
  if (stop) { db.close(); parentPort.postMessage({ done: i }); return; }
  setImmediate(loop);
})();
`;

describe('store backup', () => {
  it('copies a store into a new file that opens with the same runs, rollouts and model calls', () => {
    const { dir, path } = storeWithRuns();
    const to = join(dir, 'backup.db');
    const report = backupStore(path, to);
    assert.equal(report.check, 'ok');
    assert.deepEqual(report.counts, { runs: 2, rollouts: 31, modelCalls: 6, events: report.counts.events });
    const original = openStore(path, { readOnly: true });
    const copy = openStore(to, { readOnly: true });
    try {
      assert.deepEqual(copy.listRuns(10).map((r) => r.id).sort(), ['run_a', 'run_b']);
      assert.deepEqual(copy.rollouts('run_a' as never), original.rollouts('run_a' as never));
      const rollout = original.rollouts('run_b' as never)[0]!;
      assert.deepEqual(copy.modelCalls(rollout.id), original.modelCalls(rollout.id));
    } finally {
      original.close();
      copy.close();
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), [], 'no temporary file is left');
  });

  it('takes one consistent snapshot while another thread keeps committing to the store', async (t) => {
    const { dir, path } = storeWithRuns();
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const writer = new Worker(WRITER, { eval: true, workerData: { path, driver, perRun: ROLLOUTS_PER_RUN } });
    // A writer left running (a failed assertion) would keep the test process alive.
    t.after(() => writer.terminate());
    const done = new Promise<{ done: number }>((resolve, reject) => {
      writer.on('message', (m: unknown) => typeof m === 'object' && resolve(m as { done: number }));
      writer.once('error', reject);
    });
    await new Promise<void>((resolve) => writer.on('message', (m: unknown) => m === 'writing' && resolve()));
    const copies = [0, 1, 2].map((n) => backupStore(path, join(dir, `copy-${n}.db`)));
    writer.postMessage('stop');
    const written = (await done).done;
    for (const [n, report] of copies.entries()) {
      const db = new Database(join(dir, `copy-${n}.db`), { readonly: true });
      try {
        const perRun = db.prepare(`SELECT r.id, COUNT(o.id) AS n FROM runs r LEFT JOIN rollouts o ON o.run_id = r.id WHERE r.id LIKE 'run_w%' GROUP BY r.id`).all() as { id: string; n: number }[];
        assert.ok(perRun.length >= 5, `copy ${n} holds the runs committed before it started`);
        for (const row of perRun) assert.equal(row.n, ROLLOUTS_PER_RUN, `copy ${n}: run ${row.id} was copied whole`);
        assert.equal(report.counts.runs, perRun.length + 2);
      } finally {
        db.close();
      }
      assert.equal(checkStore(join(dir, `copy-${n}.db`)).ok, true);
    }
    assert.equal(checkStore(path).counts?.runs, written + 2);
  });

  it('refuses a destination that exists unless told to overwrite, and the store itself', () => {
    const { dir, path } = storeWithRuns();
    const to = join(dir, 'backup.db');
    writeFileSync(to, 'precious');
    assert.throws(() => backupStore(path, to), (e: unknown) => e instanceof StoreError && /already there.*--overwrite/.test(e.message));
    assert.equal(readFileSync(to, 'utf8'), 'precious');
    assert.equal(backupStore(path, to, { overwrite: true }).counts.runs, 2);
    assert.throws(() => backupStore(path, path, { overwrite: true }), /is the store being copied/);
    assert.throws(() => backupStore(dir, join(dir, 'x.db')), /not a regular file/);
  });

  it('creates the folder the backup goes into', () => {
    const { dir, path } = storeWithRuns();
    const to = join(dir, 'backups', '2026-12-07', 'g.db');
    assert.equal(backupStore(path, to).counts.runs, 2);
    assert.equal(checkStore(to).ok, true);
  });

  it('refuses what is not a Gauntlet store, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-backup-'));
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all, just some text that is long enough to be read as a header'.repeat(20));
    assert.throws(() => backupStore(text, join(dir, 'b.db')), (e: unknown) => e instanceof StoreError && e.problem === 'corrupt' && e.message.includes(text));
    const other = join(dir, 'other.db');
    new Database(other).exec('CREATE TABLE t (x)');
    assert.throws(() => backupStore(other, join(dir, 'b.db')), /not a Gauntlet store/);
    assert.throws(() => backupStore(join(dir, 'missing.db'), join(dir, 'b.db')), /no store file there/);
    assert.equal(existsSync(join(dir, 'b.db')), false);
  });
});

describe('store check', () => {
  it('passes a sound store and names records whose run or task text is missing', () => {
    const { path } = storeWithRuns();
    const sound = checkStore(path);
    assert.equal(sound.ok, true, sound.problems.join('\n'));
    assert.equal(sound.schemaVersion, sound.currentSchemaVersion);
    const db = new Database(path);
    db.exec(`DELETE FROM runs WHERE id = 'run_b'; DELETE FROM tasks WHERE hash IN (SELECT hash FROM run_tasks WHERE run_id = 'run_a' LIMIT 1)`);
    db.close();
    const broken = checkStore(path, { full: true });
    assert.equal(broken.ok, false);
    assert.equal(broken.sqliteCheck, 'integrity_check');
    assert.ok(broken.problems.some((p) => /^1 rollouts of run "run_b", which has no run record \(.*deleting the run id again removes them\)$/.test(p)), broken.problems.join('\n'));
    assert.ok(broken.problems.some((p) => /^6 model calls of run "run_b"/.test(p)), broken.problems.join('\n'));
    assert.ok(broken.problems.some((p) => /^task ".*" of run "run_a" has no stored task text$/.test(p)), broken.problems.join('\n'));
  });

  it('reports damaged pages as problems rather than failing', () => {
    const { path } = storeWithRuns();
    // Folds the WAL into the file, then scribbles over the header of the rollouts table's root page.
    const db = new Database(path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const { rootpage } = db.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'rollouts_by_run'`).get() as { rootpage: number };
    const page = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const bytes = readFileSync(path);
    bytes.fill(0x5a, (rootpage - 1) * page, (rootpage - 1) * page + 64);
    writeFileSync(path, bytes);
    const check = checkStore(path, { full: true });
    assert.equal(check.ok, false);
    assert.ok(check.problems.length > 0);
  });
});

describe('gauntlet store', () => {
  it('backs up and checks through the command line: one JSON document each, exit 1 when a check finds problems', async () => {
    const { dir, path } = storeWithRuns();
    const to = join(dir, 'nightly.db');
    const backup = await cli(['store', 'backup', to, '--store', path, '--json']);
    assert.equal(backup.code, 0, backup.err);
    assert.equal((JSON.parse(backup.out) as { counts: { runs: number } }).counts.runs, 2);
    const again = await cli(['store', 'backup', to, '--store', path]);
    assert.equal(again.code, 2);
    assert.match(again.err, /already there/);
    const check = await cli(['store', 'check', '--store', to]);
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /2 runs, 31 rollouts, 6 model calls/);
    assert.match(check.out, /^ok /m);
    const db = new Database(to);
    db.exec(`DELETE FROM runs WHERE id = 'run_a'`);
    db.close();
    const failing = await cli(['store', 'check', '--store', to, '--json']);
    assert.equal(failing.code, 1);
    assert.equal((JSON.parse(failing.out) as { ok: boolean }).ok, false);
  });
});
