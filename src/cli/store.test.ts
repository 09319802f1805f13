// Commands that only read a store (runs, show, export, compare, answers, review-stats,
// export-labels) read it without writing anything in or beside the file: a store Gauntlet may not
// write is read, and an older one keeps the schema its Gauntlet reads. Commands that write refuse
// a store they may not write, naming it, and still migrate an older one in place.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { RolloutId, RunId } from '../core/index.ts';
import { openStore, STORE_MIGRATIONS } from '../store/index.ts';
import { latestVersion } from '../store/migrations.ts';
import { scoredRollout } from '../store/test-support.ts';
import { cli } from '../../test/support/cli.ts';
import { storedSchemaVersion } from '../store/test-support.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../test/support/typescript.ts';

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];
const FIXTURE = 'test/fixtures/store/v1.db';
const V1_ORACLE = 'run_20261203210559_22c78d';
const V1_SCRIPTED = 'run_20261203210602_de8319';

const tmp = () => mkdtempSync(join(tmpdir(), 'gauntlet-store-cli-'));

// Root ignores file modes: there the path is bound read-only by bubblewrap (writes fail with EROFS).
const bwrap = spawnSync('bwrap', ['--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', 'true']).status === 0;
const root = process.getuid?.() === 0;
const readOnlyNeeds = bwrap || !root ? false : 'needs bubblewrap: a root user ignores file modes';

/** `gauntlet ARGS` in a child process to which `path` (a directory or a file) is read-only. */
function readOnlyCli(path: string, args: string[]): { code: number | null; out: string; err: string } {
  const run = (command: string, argv: string[]) => {
    const result = spawnSync(command, argv, { encoding: 'utf8' });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  if (bwrap) return run('bwrap', ['--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--ro-bind', path, path, process.execPath, ...CLI, ...args]);
  const directory = statSync(path).isDirectory();
  chmodSync(path, directory ? 0o555 : 0o444);
  try {
    return run(process.execPath, [...CLI, ...args]);
  } finally {
    chmodSync(path, directory ? 0o755 : 0o644);
  }
}

/** A one-rollout oracle run in `store`; its id. */
async function oracleRun(store: string): Promise<string> {
  const run = await cli(['run', '--env', 'mail', '--task', 'mail/kestrel-launch-date', '--model', 'oracle', '--store', store, '--json']);
  assert.equal(run.code, 0, run.err);
  return (JSON.parse(run.out) as { runId: string }).runId;
}

describe('reading commands on an older store', () => {
  it('read it as a migrated copy and leave the file as it was; a command that writes then migrates it in place', async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    copyFileSync(FIXTURE, store);
    const bytes = readFileSync(store);
    const mtime = statSync(store).mtimeMs;
    const reads: [string[], number][] = [
      [['runs', '--json'], 0],
      [['show', V1_ORACLE, '--json'], 0],
      [['export', V1_ORACLE, '--format', 'jsonl'], 0],
      [['compare', V1_ORACLE, V1_SCRIPTED, '--json'], 0],
      [['answers', '--task', 'mail/kestrel-launch-date', '--json'], 0],
      [['review-stats', '--json'], 0],
      [['export-labels', '--format', 'kto'], 0],
    ];
    for (const [args, code] of reads) {
      const result = await cli([...args, '--store', store]);
      assert.equal(result.code, code, `${args[0]}: ${result.err}`);
    }
    assert.equal((JSON.parse((await cli(['runs', '--json', '--store', store])).out) as unknown[]).length, 4);
    assert.ok(readFileSync(store).equals(bytes), 'the file is byte for byte as it was');
    assert.equal(statSync(store).mtimeMs, mtime);
    assert.deepEqual(readdirSync(dir), ['g.db'], 'nothing is left beside it');
    assert.equal(storedSchemaVersion(store), 1);
    const detected = await cli(['detect', V1_ORACLE, '--store', store]);
    assert.equal(detected.code, 0, detected.err);
    assert.equal(storedSchemaVersion(store), latestVersion(STORE_MIGRATIONS));
  });
});

describe('reading commands on a store Gauntlet may not write', () => {
  it('runs, show, export and compare read it in a read-only directory as they read it writable, and leave it as it was', { skip: readOnlyNeeds }, async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    const runA = await oracleRun(store);
    const runB = await oracleRun(store);
    const bytes = readFileSync(store);
    for (const args of [['runs', '--json'], ['show', runA, '--json'], ['export', runA, '--format', 'jsonl'], ['compare', runA, runB, '--json']]) {
      const writable = await cli([...args, '--store', store]);
      assert.equal(writable.code, 0, writable.err);
      const readOnly = readOnlyCli(dir, [...args, '--store', store]);
      assert.equal(readOnly.code, 0, `${args[0]}: ${readOnly.err}`);
      assert.equal(readOnly.out, writable.out, args[0]);
    }
    assert.deepEqual(readdirSync(dir), ['g.db']);
    assert.ok(readFileSync(store).equals(bytes));
  });

  it('a store left with committed records in its -wal is read with them from a read-only directory, with its -shm or without', { skip: readOnlyNeeds }, async () => {
    for (const withIndex of [true, false]) {
      const live = join(tmp(), 'g.db');
      const base = await oracleRun(live);
      const runId = 'run_in_log' as RunId;
      // The files a writer leaves when it is killed: its last commits are in the -wal only.
      const writer = openStore(live);
      const dir = tmp();
      const store = join(dir, 'g.db');
      try {
        writer.createRun({ ...writer.getRun(base)!, id: runId }, []);
        writer.commitRollout(scoredRollout({ id: 'ro_in_log' as RolloutId, runId }));
        assert.ok(statSync(`${live}-wal`).size > 0);
        for (const suffix of ['', '-wal', ...(withIndex ? ['-shm'] : [])]) copyFileSync(`${live}${suffix}`, `${store}${suffix}`);
      } finally {
        writer.close();
      }
      // The file alone does not hold them: reading it without its log would miss them.
      const alone = join(tmp(), 'g.db');
      copyFileSync(store, alone);
      const db = new Database(alone, { readonly: true });
      assert.equal(db.prepare(`SELECT id FROM runs WHERE id = ?`).get(runId), undefined);
      db.close();
      const files = readdirSync(dir);
      const bytes = readFileSync(store);
      const result = readOnlyCli(dir, ['export', runId, '--format', 'jsonl', '--store', store]);
      assert.equal(result.code, 0, `${withIndex ? 'with' : 'without'} -shm: ${result.err}`);
      assert.deepEqual(result.out.trim().split('\n').map((line) => (JSON.parse(line) as { rollout: { id: string } }).rollout.id), ['ro_in_log']);
      assert.deepEqual(readdirSync(dir), files);
      assert.ok(readFileSync(store).equals(bytes));
    }
  });

  it('an older store in a read-only directory is read, upgraded on read, and left as it was', { skip: readOnlyNeeds }, () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    copyFileSync(FIXTURE, store);
    const bytes = readFileSync(store);
    const runs = readOnlyCli(dir, ['runs', '--json', '--store', store]);
    assert.equal(runs.code, 0, runs.err);
    assert.equal((JSON.parse(runs.out) as unknown[]).length, 4);
    const shown = readOnlyCli(dir, ['show', V1_ORACLE, '--json', '--store', store]);
    assert.equal(shown.code, 0, shown.err);
    assert.equal((JSON.parse(shown.out) as { run: { config: { requestTimeoutMs: number } } }).run.config.requestTimeoutMs, 600_000);
    assert.deepEqual(readdirSync(dir), ['g.db']);
    assert.ok(readFileSync(store).equals(bytes));
    assert.equal(storedSchemaVersion(store), 1);
  });

  it('a read-only file in a writable directory is read, and nothing is made beside it', { skip: readOnlyNeeds }, async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    const runId = await oracleRun(store);
    const result = readOnlyCli(store, ['runs', '--json', '--store', store]);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual((JSON.parse(result.out) as { id: string }[]).map((r) => r.id), [runId]);
    assert.deepEqual(readdirSync(dir), ['g.db']);
  });

  it('commands that write refuse it (exit 2), naming the file and what is not writable', { skip: readOnlyNeeds }, async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    const runId = await oracleRun(store);
    const inDirectory = new RegExp(`^gauntlet: store ${store}: cannot write it: its directory ${dir} is read-only`);
    for (const args of [['run', '--resume', runId], ['review-queue', '--run', runId, '--sample', '1']]) {
      const result = readOnlyCli(dir, [...args, '--store', store]);
      assert.equal(result.code, 2, result.err);
      assert.match(result.err, inDirectory, args[0]);
    }
    const result = readOnlyCli(store, ['run', '--resume', runId, '--store', store]);
    assert.equal(result.code, 2, result.err);
    assert.match(result.err, new RegExp(`^gauntlet: store ${store}: cannot write it: the file is read-only`));
  });
});
