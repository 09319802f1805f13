// A store opened only to read: nothing in or beside the file is written, an older store keeps its
// schema (it is read through a migrated private copy), and every write is refused, naming the file.
// Files and directories Gauntlet may not write are covered through the CLI (src/cli/store.test.ts).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SCHEMA_VERSION, StoreError, type RolloutId, type RunId } from '../core/index.ts';
import { latestVersion, STORE_MIGRATIONS } from './migrations.ts';
import { openStore } from './sqlite-store.ts';
import { scoredRollout } from './test-support.ts';
import { storedSchemaVersion } from './test-support.ts';

const CURRENT = latestVersion(STORE_MIGRATIONS);
const FIXTURE = 'test/fixtures/store/v1.db';
const ORACLE_RUN = 'run_20261203210559_22c78d';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gauntlet-store-ro-'));
}

/** Runs `work` with TMPDIR (where private copies go) set to a new empty directory, which it is given. */
function withTmpdir<T>(work: (dir: string) => T): T {
  const dir = tempDir();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return work(dir);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

describe('store opened to read: an older schema', () => {
  it('is read through a migrated private copy; the file keeps its bytes and version, and a writing open still migrates it in place', () => {
    const dir = tempDir();
    const path = join(dir, 'g.db');
    copyFileSync(FIXTURE, path);
    const bytes = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    withTmpdir((copies) => {
      const store = openStore(path, { readOnly: true });
      try {
        assert.equal(store.listRuns().length, 4);
        // Records are upgraded on read as a migrated file's are.
        const run = store.getRun(ORACLE_RUN)!;
        assert.equal(run.schemaVersion, SCHEMA_VERSION);
        assert.equal(run.config.requestTimeoutMs, 600_000);
        assert.equal(store.rollouts(ORACLE_RUN).length, 2);
        assert.deepEqual(store.reviewLabels({ runId: ORACLE_RUN }), [], 'tables of later schemas are there to read');
        assert.equal(readdirSync(copies).length, 1, 'the copy is in TMPDIR');
        assert.deepEqual(store.olderSchema, { stored: 1, current: CURRENT }, 'a caller can say the file was not migrated');
      } finally {
        store.close();
      }
      assert.deepEqual(readdirSync(copies), [], 'the copy is removed on close');
    });
    assert.ok(readFileSync(path).equals(bytes), 'the file is byte for byte as it was');
    assert.equal(statSync(path).mtimeMs, mtime);
    assert.deepEqual(readdirSync(dir), ['g.db'], 'nothing is left beside it');
    assert.equal(storedSchemaVersion(path), 1);
    // A command that writes migrates it in place, as before.
    openStore(path).close();
    assert.equal(storedSchemaVersion(path), CURRENT);
  });
});

describe('store opened to read: writes', () => {
  it('sees what a writer commits meanwhile, refuses every write naming the file, and leaves nothing beside it', () => {
    const dir = tempDir();
    const path = join(dir, 'g.db');
    copyFileSync(FIXTURE, path);
    const writer = openStore(path);
    const reader = openStore(path, { readOnly: true });
    try {
      const runId = 'run_live' as RunId;
      writer.createRun({ ...writer.getRun(ORACLE_RUN)!, id: runId }, []);
      writer.commitRollout(scoredRollout({ id: 'ro_live' as RolloutId, runId }));
      assert.deepEqual(reader.rollouts(runId).map((r) => r.id), ['ro_live']);
      assert.equal(reader.olderSchema, null, 'the writer migrated it: read in place');
      const refused = (e: unknown) => e instanceof StoreError && e.problem === 'read_only' && e.message.startsWith(`store ${path}: was opened only to read`);
      assert.throws(() => reader.createRun({ ...writer.getRun(ORACLE_RUN)!, id: 'run_refused' as RunId }, []), refused);
      assert.throws(() => reader.commitRollout(scoredRollout({ id: 'ro_refused' as RolloutId, runId })), refused);
      assert.throws(() => reader.acquireLease(runId), refused);
      // Appends are kept out too, and the next commit says so.
      reader.recorder({ runId, rolloutId: 'ro_refused' as RolloutId, attempt: 1 }).event('rollout_started', { taskId: 'counter/a', attempt: 1, scaffold: 'interleaved', model: 'test' });
      assert.throws(() => reader.commitRollout(scoredRollout({ id: 'ro_refused' as RolloutId, runId })), (e: unknown) => refused(e) && (e as Error).message.includes('appending model calls and events is refused'));
      assert.deepEqual(writer.events('ro_refused'), []);
      assert.equal(writer.getRun('run_refused'), null);
      assert.equal(writer.getRollout('ro_refused'), null);
    } finally {
      reader.close();
      writer.close();
    }
    assert.deepEqual(readdirSync(dir), ['g.db']);
  });

  it('refuses a path with no store, creating nothing there', () => {
    const dir = tempDir();
    const path = join(dir, 'typo', 'g.db');
    assert.throws(() => openStore(path, { readOnly: true }), (e: unknown) => e instanceof StoreError && e.problem === 'unusable_path' && e.message === `store ${path}: no store file there (a command that only reads creates none)`);
    assert.equal(existsSync(join(dir, 'typo')), false);
  });
});
