// Leftovers of bwrap sandboxes: a Gauntlet process killed with SIGKILL leaves its work dirs (and
// their tmpfs mounts) on the host; the next process removes them, and never a running one's.
// Runs in its own process: the first test relies on this process not having made a sandbox yet.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createSandbox, sandboxAvailability } from './index.ts';
import { reapLeftovers, sandboxesRoot } from './host-dirs.ts';

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
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HOLDER], { stdio: ['pipe', 'pipe', 'pipe'] });
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
    const workDir = readdirSync(holder.folder)[0] ?? assert.fail('the holder has no work dir');
    assert.ok(workDir.startsWith('sbx-'), 'the holder\'s work dir sits in its own folder');
    assert.equal(readFileSync(join(holder.folder, workDir, 'held.txt'), 'utf8'), 'held');
    if (mounts) assert.deepEqual(mountedBelow(holder.folder), [join(holder.folder, workDir)], 'its work dir is a tmpfs mount');

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
      const [workDir] = readdirSync(holder.folder);
      assert.equal(readFileSync(join(holder.folder, workDir!, 'held.txt'), 'utf8'), 'held', 'the running holder keeps its work dir');
      if (mounts) assert.equal(mountedBelow(holder.folder).length, 1, 'and its mount');
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
    if (mounts) assert.equal(mountedBelow(holder.folder).length, 1);
    holder.child.stdin.write('exit\n');
    await holder.exited;
    assert.equal(holder.child.exitCode, 0);
    assert.deepEqual(mountedBelow(holder.folder), []);
    assert.equal(existsSync(holder.folder), false);
  });
});
