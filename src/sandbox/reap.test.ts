// Leftovers of bwrap sandboxes: a Gauntlet process killed with SIGKILL leaves its work dirs (and
// their tmpfs mounts) on the host; the next process removes them, and never a running one's. Its
// sandboxes' processes die with it, and any that did not are killed by the next process too.
// Runs in its own process: the first test relies on this process not having made a sandbox yet.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as poll } from 'node:timers/promises';
import { createSandbox, sandboxAvailability } from './index.ts';
import { reapLeftovers, sandboxesRoot } from './host-dirs.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../test/support/typescript.ts';

const { bwrap } = await sandboxAvailability();
const INDEX = new URL('./index.ts', import.meta.url).href;

/** A Gauntlet-like process holding one open bwrap sandbox; exits with process.exit(0) on any stdin. */
const HOLDER = `
const { createSandbox } = await import(${JSON.stringify(INDEX)});
const sb = await createSandbox({ backend: 'bwrap' });
await sb.writeFile('held.txt', 'held');
process.stdout.write('ready\\n');
process.stdin.on('data', () => process.exit(0));
`;

interface Holder {
  child: ChildProcessWithoutNullStreams;
  folder: string;
  exited: Promise<void>;
}

async function startHolder(): Promise<Holder> {
  const child = spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, '--input-type=module', '-e', HOLDER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) resolve();
    });
    void exited.then(() => reject(new Error(`the holder exited before it was ready: ${stderr}`)));
  });
  return { child, folder: folderOf(child.pid!), exited };
}

/** The holder's one work dir (its folder also holds `rt`, what its sandboxes share). */
const workDirOf = (folder: string) => readdirSync(folder).find((d) => d.startsWith('sbx-')) ?? assert.fail(`no work dir in ${folder}`);

function folderOf(pid: number): string {
  const name = readdirSync(sandboxesRoot()).find((d) => d.startsWith(`${pid}-`));
  assert.ok(name, `no sandboxes folder for pid ${pid}`);
  return join(sandboxesRoot(), name);
}

/** Read independently of the code under test. */
const mountedBelow = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));

const mounts = bwrap.disk === 'tmpfs';

function requireBwrap(t: TestContext): boolean {
  if (bwrap.available) return true;
  t.skip(`bwrap unavailable here: ${bwrap.reason}`);
  return false;
}

describe('bwrap sandbox leftovers', () => {
  it('removes the mount and work dir of a process killed with SIGKILL when the next process makes its first sandbox', async (t) => {
    if (!requireBwrap(t)) return;
    const holder = await startHolder();
    const workDir = workDirOf(holder.folder);
    assert.equal(readFileSync(join(holder.folder, workDir, 'held.txt'), 'utf8'), 'held');
    if (mounts) assert.ok(mountedBelow(holder.folder).includes(join(holder.folder, workDir)), 'its work dir is a tmpfs mount');

    holder.child.kill('SIGKILL');
    await holder.exited;
    assert.ok(existsSync(join(holder.folder, workDir)), 'SIGKILL leaves the work dir behind');

    const sb = await createSandbox({ backend: 'bwrap' });
    try {
      assert.deepEqual(mountedBelow(holder.folder), [], 'the mount is gone');
      assert.equal(existsSync(holder.folder), false, 'the folder is gone');
      assert.equal((await sb.exec('echo fine', { timeoutMs: 5000 })).stdout, 'fine\n');
    } finally {
      await sb.close();
    }
  });

  it('never touches a running process\'s sandboxes, but treats a reused pid (other start time) as dead', async (t) => {
    if (!requireBwrap(t)) return;
    const holder = await startHolder();
    try {
      // Same pid as a running process, different start time: the folder of an earlier process.
      const stale = join(sandboxesRoot(), `${holder.child.pid}-1`);
      const staleWork = join(stale, 'sbx-stale');
      mkdirSync(staleWork, { recursive: true });
      if (mounts) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=65536', 'tmpfs', staleWork]);

      const report = reapLeftovers();
      assert.ok(report.removed.includes(stale), `removed: ${report.removed.join(', ')}`);
      assert.deepEqual(report.failed, []);
      assert.equal(existsSync(stale), false);
      assert.deepEqual(mountedBelow(stale), []);

      assert.ok(!report.removed.includes(holder.folder));
      const workDir = workDirOf(holder.folder);
      assert.equal(readFileSync(join(holder.folder, workDir, 'held.txt'), 'utf8'), 'held', 'the running holder keeps its work dir');
      if (mounts) assert.ok(mountedBelow(holder.folder).includes(join(holder.folder, workDir)), 'and its mount');
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
      reapLeftovers();
    }
    assert.equal(existsSync(holder.folder), false);
  });

  it('a process that exits with sandboxes still open removes them on the way out', async (t) => {
    if (!requireBwrap(t)) return;
    const holder = await startHolder();
    if (mounts) assert.ok(mountedBelow(holder.folder).length >= 1);
    holder.child.stdin.write('exit\n');
    await holder.exited;
    assert.equal(holder.child.exitCode, 0);
    assert.deepEqual(mountedBelow(holder.folder), []);
    assert.equal(existsSync(holder.folder), false);
  });

  it('takes the sandbox of a process killed with SIGKILL down with it: bwrap and the supervisor die too', async (t) => {
    if (!requireBwrap(t)) return;
    const holder = await startHolder();
    const bwraps = recorded(holder.folder).filter((pid) => existsSync(`/proc/${pid}`));
    assert.ok(bwraps.length > 0, 'the holder recorded the bwrap it runs');
    const sandboxProcesses = [...bwraps, ...bwraps.flatMap(childrenOf)];
    assert.ok(sandboxProcesses.length > bwraps.length, 'and the supervisor runs inside it');
    holder.child.kill('SIGKILL');
    await holder.exited;
    await until(() => sandboxProcesses.every((pid) => !existsSync(`/proc/${pid}`)), 'the sandbox processes to exit');
    reapLeftovers();
  });

  it('kills a recorded process still running for an owner that no longer runs, before removing its folder', async (t) => {
    if (!requireBwrap(t)) return;
    // An owner record whose start time is not this process's: a dead owner, as the reaper sees it.
    const stale = join(sandboxesRoot(), `${process.pid}-1`);
    mkdirSync(join(stale, 'sbx-left'), { recursive: true });
    // Stands in for a bwrap that outlived its owner; a pid with another start time is someone else's.
    const leftover = spawn('/bin/bash', ['-c', 'read -r _'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    const gone = new Promise<NodeJS.Signals | null>((resolve) => leftover.once('exit', (_code, signal) => resolve(signal)));
    const started = startTime(leftover.pid!);
    writeFileSync(join(stale, 'processes'), `${leftover.pid} ${started}\n${process.pid} 1\n`);
    const report = reapLeftovers();
    assert.deepEqual(report.killed, [leftover.pid]);
    assert.equal(await gone, 'SIGKILL');
    assert.ok(report.removed.includes(stale));
    assert.equal(existsSync(stale), false);
  });
});

/** The pids a Gauntlet process recorded for its bwraps, read independently of the code under test. */
const recorded = (folder: string) =>
  readFileSync(join(folder, 'processes'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.split(' ')[0]));

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Waits for a condition, checking it every 20 ms, for at most 10 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await poll(20);
  }
}
