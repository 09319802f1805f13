// `gauntlet serve` over a store it may not or must not write: a read-only file or directory (a
// shared results folder, an archive) is served to read by itself, and --read-only does the same
// for a writable store (an older one included, which is then left unmigrated). Reads work, every
// write is refused naming why, and nothing is written in or beside the file (no -wal or -shm).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { reviewFixture } from '../../review/test-support.ts';
import { openStore, STORE_MIGRATIONS } from '../../store/index.ts';
import { latestVersion } from '../../store/migrations.ts';
import { storedSchemaVersion } from '../../store/test-support.ts';
import { processesWhere } from '../../../test/support/processes.ts';
import type { CliIo } from '../io.ts';
import { registerServeCommand, type ServeHooks } from './serve.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../../test/support/typescript.ts';

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];
const V1_FIXTURE = 'test/fixtures/store/v1.db';
const V1_ORACLE = 'run_20261203210559_22c78d';
const CURRENT = latestVersion(STORE_MIGRATIONS);
const OLDER = `its schema 1 is older than this Gauntlet's ${CURRENT}, so it is read through a migrated private copy and the file is left unmigrated`;

const tmp = () => mkdtempSync(join(tmpdir(), 'gauntlet-serve-ro-'));
/** Where no web app is built: the API is all these tests need. */
const NO_WEB = join(tmp(), 'no-web');

// Root ignores file modes: there the path is bound read-only by bubblewrap (writes fail with EROFS).
const BWRAP = ['--bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
const bwrap = spawnSync('bwrap', [...BWRAP, 'true']).status === 0;
const root = process.getuid?.() === 0;
const readOnlyNeeds = bwrap || !root ? false : 'needs bubblewrap: a root user ignores file modes';

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { message: string } };
}

async function call(url: string, path: string, body?: unknown): Promise<Reply> {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(`${url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Reply['body'] };
}

/** `gauntlet serve` in-process, `during` run against it before it stops; what it printed. */
async function serveInProcess(args: string[], during: (url: string) => Promise<void>): Promise<string> {
  const io = { err: '', interactive: false, env: {} } as unknown as CliIo & { err: string };
  io.stdout = () => undefined;
  io.stderr = (t) => void (io.err += t);
  const hooks: ServeHooks = { webRoot: NO_WEB, untilStopped: (server) => during(server.url) };
  const program = new Command('gauntlet').exitOverride();
  registerServeCommand(program, io, hooks);
  await program.parseAsync(['node', 'gauntlet', 'serve', '--port', '0', ...args]);
  return io.err;
}

/** The process bubblewrap started (it does not pass signals on). */
function childOf(pid: number): number {
  const [child] = processesWhere(() => true).filter((candidate) => {
    try {
      const stat = readFileSync(`/proc/${candidate}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
  assert.ok(child !== undefined, `no process under ${pid}`);
  return child;
}

interface ServeChild {
  url: string;
  /** Stops it as Ctrl-C would; its exit code and everything it printed on stderr. */
  stop: () => Promise<{ code: number | null; err: string }>;
}

/** `gauntlet serve ARGS` in a child process to which `path` (a directory or a file) is read-only. */
async function serveReadOnly(path: string, args: string[]): Promise<ServeChild> {
  const argv = [...CLI, 'serve', '--port', '0', ...args];
  let restore = (): void => undefined;
  let child: ChildProcess;
  if (bwrap) {
    child = spawn('bwrap', [...BWRAP, '--ro-bind', path, path, process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    const mode = statSync(path).mode & 0o777;
    chmodSync(path, statSync(path).isDirectory() ? 0o555 : 0o444);
    restore = () => chmodSync(path, mode);
    child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (text: string) => {
        err += text;
        const listening = /serve: (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (listening) resolve(listening[1]!);
      });
      void exited.then((code) => reject(new Error(`serve exited (${code}) before it listened: ${err}`)));
    });
    return {
      url,
      stop: async () => {
        try {
          process.kill(bwrap ? childOf(child.pid!) : child.pid!, 'SIGTERM');
          return { code: await exited, err };
        } finally {
          restore();
        }
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    restore();
    throw error;
  }
}

describe('gauntlet serve on a store it may not write', { timeout: 120_000 }, () => {
  let source: string;
  let rolloutId: string;

  before(async () => {
    source = join(tmp(), 'g.db');
    const fx = await reviewFixture({ path: source });
    rolloutId = fx.store.rollouts(fx.oracleRun)[0]!.id;
    fx.store.close();
  });

  /** A copy of the fixture store, alone in a new directory. */
  const storeCopy = (from = source) => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    copyFileSync(from, store);
    return { dir, store, bytes: readFileSync(store) };
  };

  it('in a read-only directory: reads are served, writes refused naming the directory, and nothing is made in it', { skip: readOnlyNeeds }, async () => {
    const { dir, store, bytes } = storeCopy();
    const serve = await serveReadOnly(dir, ['--store', store]);
    let stopped: { code: number | null; err: string } | undefined;
    try {
      const why = `its directory ${dir} is read-only`;
      assert.deepEqual((await call(serve.url, '/api/store')).body, { readOnly: true, reason: why });
      assert.equal(((await call(serve.url, '/api/runs')).body.items as unknown[]).length, 2);
      assert.equal((await call(serve.url, `/api/rollouts/${rolloutId}`)).status, 200);
      for (const [path, body] of [
        ['/api/labels/verdict', { rolloutId, verdict: 'accept', reviewer: 'alice' }],
        ['/api/queues', { runId: 'any', sample: 1, strategy: 'random', reviewersPerItem: 1 }],
      ] as const) {
        const refused = await call(serve.url, path, body);
        assert.equal(refused.status, 403, path);
        assert.match(refused.body.error!.message, new RegExp(`^the store is served read-only \\(${why}\\)`));
      }
      assert.deepEqual(readdirSync(dir), ['g.db'], 'no -wal or -shm while serving');
    } finally {
      stopped = await serve.stop();
    }
    assert.equal(stopped.code, 0, stopped.err);
    assert.match(stopped.err, new RegExp(`read-only: its directory ${dir} is read-only; labels, review queues and new tasks are refused`));
    assert.deepEqual(readdirSync(dir), ['g.db']);
    assert.ok(readFileSync(store).equals(bytes), 'the file is byte for byte as it was');
  });

  it('as a read-only file in a writable directory: served to read, and no -wal or -shm appears beside it', { skip: readOnlyNeeds }, async () => {
    const { dir, store, bytes } = storeCopy();
    const serve = await serveReadOnly(store, ['--store', store]);
    let stopped: { code: number | null; err: string } | undefined;
    try {
      assert.deepEqual((await call(serve.url, '/api/store')).body, { readOnly: true, reason: 'the file is read-only' });
      assert.equal((await call(serve.url, `/api/rollouts/${rolloutId}/labels`)).status, 200);
      assert.equal((await call(serve.url, '/api/labels/verdict', { rolloutId, verdict: 'reject', reviewer: 'bob' })).status, 403);
      assert.deepEqual(readdirSync(dir), ['g.db']);
    } finally {
      stopped = await serve.stop();
    }
    assert.equal(stopped.code, 0, stopped.err);
    assert.deepEqual(readdirSync(dir), ['g.db']);
    assert.ok(readFileSync(store).equals(bytes));
  });

  it('an older store in a read-only directory: read upgraded, and left at its schema', { skip: readOnlyNeeds }, async () => {
    const { dir, store, bytes } = storeCopy(V1_FIXTURE);
    const serve = await serveReadOnly(dir, ['--store', store]);
    let stopped: { code: number | null; err: string } | undefined;
    try {
      assert.deepEqual((await call(serve.url, '/api/store')).body, { readOnly: true, reason: `its directory ${dir} is read-only; ${OLDER}` });
      assert.equal(((await call(serve.url, '/api/runs')).body.items as unknown[]).length, 4);
      const run = (await call(serve.url, `/api/runs/${V1_ORACLE}`)).body.run as { config: { requestTimeoutMs: number } };
      assert.equal(run.config.requestTimeoutMs, 600_000, 'records are upgraded on read');
    } finally {
      stopped = await serve.stop();
    }
    assert.equal(stopped.code, 0, stopped.err);
    assert.deepEqual(readdirSync(dir), ['g.db']);
    assert.ok(readFileSync(store).equals(bytes));
    assert.equal(storedSchemaVersion(store), 1);
  });
});

describe('gauntlet serve --read-only', { timeout: 60_000 }, () => {
  it('leaves an older store it could write unmigrated, reading it through a private copy that is removed when it stops', async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    copyFileSync(V1_FIXTURE, store);
    const bytes = readFileSync(store);
    const copies = tmp();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = copies;
    let err: string;
    try {
      err = await serveInProcess(['--read-only', '--store', store], async (url) => {
        assert.deepEqual((await call(url, '/api/store')).body, { readOnly: true, reason: `served with --read-only; ${OLDER}` });
        assert.equal(((await call(url, '/api/runs')).body.items as unknown[]).length, 4);
        assert.equal(readdirSync(copies).length, 1, 'the copy is in TMPDIR');
        const refused = await call(url, '/api/queues', { runId: V1_ORACLE, sample: 1, strategy: 'random', reviewersPerItem: 1 });
        assert.equal(refused.status, 403);
      });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.match(err, /read-only: served with --read-only; its schema 1 is older/);
    assert.deepEqual(readdirSync(copies), [], 'the copy is removed when serve stops');
    assert.ok(readFileSync(store).equals(bytes), 'the file is byte for byte as it was');
    assert.deepEqual(readdirSync(dir), ['g.db']);
    assert.equal(storedSchemaVersion(store), 1);
  });

  it('refuses labels on a store it could write, which takes them when served without the flag', async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    const fx = await reviewFixture({ path: store });
    const rolloutId = fx.store.rollouts(fx.oracleRun)[0]!.id;
    fx.store.close();
    const bytes = readFileSync(store);
    const verdict = { rolloutId, verdict: 'accept', reviewer: 'alice' };
    const readOnly = await serveInProcess(['--read-only', '--store', store], async (url) => {
      assert.deepEqual((await call(url, '/api/store')).body, { readOnly: true, reason: 'served with --read-only' });
      assert.equal((await call(url, '/api/labels/verdict', verdict)).status, 403);
    });
    assert.match(readOnly, /read-only: served with --read-only; labels, review queues and new tasks are refused/);
    assert.ok(readFileSync(store).equals(bytes));
    assert.deepEqual(readdirSync(dir), ['g.db'], 'the -wal and -shm of reading go when it stops');
    const writable = await serveInProcess(['--store', store], async (url) => {
      assert.deepEqual((await call(url, '/api/store')).body, { readOnly: false, reason: null });
      assert.equal((await call(url, '/api/labels/verdict', verdict)).status, 201);
    });
    assert.doesNotMatch(writable, /read-only/);
    const after = openStore(store, { readOnly: true });
    try {
      assert.deepEqual(after.reviewLabels({ rolloutId }).map((l) => l.reviewer), ['alice']);
    } finally {
      after.close();
    }
  });

  it('refuses a path with no store, creating nothing there', async () => {
    const dir = tmp();
    await assert.rejects(
      serveInProcess(['--read-only', '--store', join(dir, 'typo', 'g.db')], async () => assert.fail('no server should start')),
      (e: unknown) => e instanceof InputError && e.where === '--store' && /no store at/.test(e.message),
    );
    assert.equal(existsSync(join(dir, 'typo')), false);
  });
});
