// Whole-sandbox limits. The placement and reaping logic runs on a model of cgroup v2's file
// system (its rules: a cgroup's controllers are those its parent delegates, a non-root cgroup with
// processes delegates nothing, limit files exist only with their controller), so it is checked on
// any host; the memory-sum attack runs for real where this host gives us cgroups v2, and
// otherwise the test checks that the fallback is the one reported and warned about.
// Runs in its own process: the warning is once per process, before any other bwrap sandbox here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describe, it } from 'node:test';
import { idleProcessesOf } from './bwrap.ts';
import { detectResourceControl, reapCgroups, resourceControl, SandboxCgroup, type CgroupControl, type CgroupFs, type ResourceControl } from './cgroup.ts';
import { createSandbox, sandboxAvailability } from './index.ts';
import { resolveLimits } from './limits.ts';
import { ownName } from './owners.ts';

const MOUNT = '/sys/fs/cgroup';

interface Node {
  subtree: Set<string>;
  procs: Set<number>;
  files: Map<string, string>;
}

const fail = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code });

/** cgroup v2 as the kernel presents it, with the rules that decide where Gauntlet can put sandboxes. */
class ModelCgroupFs implements CgroupFs {
  readonly nodes = new Map<string, Node>();
  readonly killed: string[] = [];

  constructor(
    private readonly offered: string[],
    private readonly options: { readOnly?: boolean; rootIsNamespaceRoot?: boolean } = {},
  ) {
    this.nodes.set(MOUNT, { subtree: new Set(), procs: new Set(), files: new Map() });
  }

  add(path: string, setup: { subtree?: string[]; procs?: number[] } = {}): this {
    this.nodes.set(path, { subtree: new Set(setup.subtree), procs: new Set(setup.procs), files: new Map() });
    return this;
  }

  private node(path: string): Node {
    const node = this.nodes.get(path);
    if (!node) throw fail('ENOENT', path);
    return node;
  }

  controllersOf(path: string): string[] {
    return path === MOUNT ? this.offered : [...this.node(dirname(path)).subtree];
  }

  /** The root of the real hierarchy may hold processes and delegate; a namespace's root may not. */
  private mayHoldAndDelegate(path: string): boolean {
    return path === MOUNT && !this.options.rootIsNamespaceRoot;
  }

  private limitFile(dir: string, file: string): boolean {
    const controller = file.split('.')[0]!;
    return ['memory', 'pids', 'cpu'].includes(controller) && this.controllersOf(dir).includes(controller);
  }

  read(path: string): string {
    const [dir, file] = [dirname(path), basename(path)];
    const node = this.node(dir);
    if (file === 'cgroup.controllers') return this.controllersOf(dir).join(' ');
    if (file === 'cgroup.subtree_control') return [...node.subtree].join(' ');
    if (file === 'cgroup.procs') return [...node.procs].join('\n');
    const value = node.files.get(file);
    if (value === undefined) throw fail('ENOENT', path);
    return value;
  }

  write(path: string, data: string): void {
    if (this.options.readOnly) throw fail('EROFS', path);
    const [dir, file] = [dirname(path), basename(path)];
    const node = this.node(dir);
    if (file === 'cgroup.subtree_control') {
      if (node.procs.size > 0 && !this.mayHoldAndDelegate(dir)) throw fail('EBUSY', path);
      for (const token of data.split(' ')) {
        const name = token.slice(1);
        if (!this.controllersOf(dir).includes(name)) throw fail('ENOENT', path);
        if (token.startsWith('+')) node.subtree.add(name);
        else node.subtree.delete(name);
      }
    } else if (file === 'cgroup.procs') {
      if (node.subtree.size > 0 && !this.mayHoldAndDelegate(dir)) throw fail('EBUSY', path);
      node.procs.add(Number(data));
    } else if (file === 'cgroup.kill') {
      node.procs.clear();
      this.killed.push(dir);
    } else if (this.limitFile(dir, file)) {
      node.files.set(file, data);
    } else {
      throw fail('ENOENT', path);
    }
  }

  mkdir(path: string): void {
    if (this.options.readOnly) throw fail('EROFS', path);
    this.node(dirname(path));
    if (this.nodes.has(path)) throw fail('EEXIST', path);
    this.add(path);
  }

  rmdir(path: string): void {
    const node = this.node(path);
    if (node.procs.size > 0 || this.list(path).length > 0) throw fail('EBUSY', path);
    this.nodes.delete(path);
  }

  list(path: string): string[] {
    this.node(path);
    return [...this.nodes.keys()].filter((p) => dirname(p) === path && p !== path).map((p) => basename(p));
  }

  exists(path: string): boolean {
    if (this.nodes.has(path)) return true;
    const [dir, file] = [dirname(path), basename(path)];
    const node = this.nodes.get(dir);
    if (!node) return false;
    if (file === 'cgroup.kill') return true;
    // With swap accounting on, as on most hosts.
    if (file === 'memory.swap.max') return this.limitFile(dir, file);
    return node.files.has(file);
  }
}

const V2_MOUNTINFO = `30 23 0:26 / ${MOUNT} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
const HYBRID_MOUNTINFO = `24 22 0:21 / ${MOUNT} rw,relatime - tmpfs tmpfs rw,mode=755\n31 24 0:28 / ${MOUNT}/unified rw,relatime - cgroup2 cgroup rw\n`;
const ALL = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'];

const detect = (fs: ModelCgroupFs, selfCgroup: string, mountinfo = V2_MOUNTINFO): ResourceControl =>
  detectResourceControl({ fs, mountPoint: MOUNT, mountinfo, selfCgroup, owner: '100-5' });

describe('sandbox cgroups on a cgroup v2 host (model)', () => {
  it('go in a gauntlet folder beside the cgroup Gauntlet runs in, with memory, pids and cpu delegated down to each sandbox', async () => {
    const fs = new ModelCgroupFs(ALL).add('/sys/fs/cgroup/system.slice', { subtree: ['memory', 'pids'] }).add('/sys/fs/cgroup/system.slice/gauntlet.service', { procs: [100] });
    fs.nodes.get(MOUNT)!.subtree = new Set(['cpu', 'memory', 'pids']);
    const control = detect(fs, '0::/system.slice/gauntlet.service\n');
    assert.deepEqual(control, {
      mode: 'cgroup-v2',
      root: '/sys/fs/cgroup/system.slice/gauntlet',
      folder: '/sys/fs/cgroup/system.slice/gauntlet/100-5',
      controllers: ['memory', 'pids', 'cpu'],
    });
    assert.deepEqual(fs.list('/sys/fs/cgroup/system.slice/gauntlet/100-5'), [], 'the probe cgroup is gone');
    assert.deepEqual(fs.controllersOf('/sys/fs/cgroup/system.slice/gauntlet/100-5/x'), ['memory', 'pids', 'cpu']);

    const cgroup = SandboxCgroup.create(control as CgroupControl, resolveLimits({ memoryBytes: 2 * 1024 ** 3, maxProcesses: 64, cpus: 1.5 }), fs);
    const leaf = fs.nodes.get(cgroup.path)!;
    assert.deepEqual(Object.fromEntries(leaf.files), { 'memory.max': String(2 * 1024 ** 3), 'memory.swap.max': '0', 'pids.max': '68', 'cpu.max': '150000 100000' });
    cgroup.enter(4242);
    assert.deepEqual([...leaf.procs], [4242]);
    await cgroup.remove();
    assert.deepEqual(fs.killed, [cgroup.path], 'what ran in it was killed');
    assert.equal(fs.nodes.has(cgroup.path), false);
  });

  it('uses only the controllers on offer, but never goes without memory', () => {
    const fs = new ModelCgroupFs(['memory', 'io']).add('/sys/fs/cgroup/a', { procs: [1] });
    const control = detect(fs, '0::/a\n');
    assert.equal(control.mode, 'cgroup-v2');
    assert.deepEqual((control as CgroupControl).controllers, ['memory']);
    const none = detect(new ModelCgroupFs(['cpu', 'pids']).add('/sys/fs/cgroup/a', { procs: [1] }), '0::/a\n');
    assert.deepEqual(none, { mode: 'per-process', reason: 'the memory controller is not available in /sys/fs/cgroup' });
  });

  it('falls back with the reason on a v1 or hybrid host, in a container whose top cgroup holds processes, and on a read-only hierarchy', () => {
    const hybrid = detect(new ModelCgroupFs(ALL), '0::/\n', HYBRID_MOUNTINFO);
    assert.equal(hybrid.mode, 'per-process');
    assert.match((hybrid as { reason: string }).reason, /\/sys\/fs\/cgroup is not a cgroup v2 hierarchy \(it is tmpfs/);

    const container = new ModelCgroupFs(ALL, { rootIsNamespaceRoot: true });
    container.nodes.get(MOUNT)!.procs.add(1);
    const busy = detect(container, '0::/\n');
    assert.match((busy as { reason: string }).reason, /\/sys\/fs\/cgroup holds processes of its own.*run Gauntlet in a cgroup of its own/);
    assert.equal(container.list(MOUNT).length, 0, 'nothing was created');

    const readOnly = detect(new ModelCgroupFs(ALL, { readOnly: true }).add('/sys/fs/cgroup/a', { procs: [1] }), '0::/a\n');
    assert.match((readOnly as { reason: string }).reason, /cannot enable memory, pids, cpu for the children of \/sys\/fs\/cgroup \(EROFS/);
  });

  it('reaps the sandbox cgroups of owners that no longer run, killing what runs in them, and never a running owner\'s', () => {
    const root = '/sys/fs/cgroup/gauntlet';
    const live = ownName()!;
    const dead = `${process.pid}-1`;
    const fs = new ModelCgroupFs(ALL).add(root).add(`${root}/${dead}`).add(`${root}/${dead}/sbx-a`, { procs: [999] }).add(`${root}/${live}`).add(`${root}/${live}/sbx-b`, { procs: [998] }).add(`${root}/not-ours`);
    const report = reapCgroups({ mode: 'cgroup-v2', root, folder: `${root}/${live}`, controllers: ['memory'] }, fs);
    assert.deepEqual(report, { removed: [`${root}/${dead}`], failed: [] });
    assert.deepEqual(fs.killed, [`${root}/${dead}/sbx-a`]);
    assert.deepEqual(fs.list(root).sort(), [live, 'not-ours'].sort());
    assert.deepEqual([...fs.nodes.get(`${root}/${live}/sbx-b`)!.procs], [998]);
  });
});

const { bwrap } = await sandboxAvailability();

describe('whole-sandbox limits on this host', () => {
  it('reports the mode in use, puts sandbox processes in their cgroup or warns once that it cannot', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const control = resourceControl();
    const notices: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      notices.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const [first, second] = await Promise.all([createSandbox({ backend: 'bwrap' }), createSandbox({ backend: 'bwrap' })]).finally(() => {
      process.stderr.write = write;
    });
    try {
      const warnings = notices.filter((n) => n.includes('whole-sandbox limits are off'));
      if (control.mode === 'per-process') {
        assert.ok(control.reason.length > 0);
        assert.equal(warnings.length, 1, notices.join(''));
        assert.ok(warnings[0]!.includes(control.reason));
        t.diagnostic(`per-process limits here: ${control.reason}`);
      } else {
        assert.deepEqual(warnings, []);
        for (const pid of await idleProcessesOf(first!)) {
          const path = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '';
          assert.ok(`${MOUNT}${path}`.startsWith(`${control.folder}/sbx-`), `pid ${pid} is in ${path}`);
        }
      }
    } finally {
      await Promise.all([first!.close(), second!.close()]);
    }
  });

  it('stops the memory-sum attack: four processes of 1.5 GiB in a 2 GiB sandbox cannot all succeed', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const control = resourceControl();
    if (control.mode !== 'cgroup-v2') return t.skip(`needs cgroups v2; this host has per-process limits only (${control.reason})`);
    const sb = await createSandbox({ backend: 'bwrap', limits: { memoryBytes: 2 * 1024 ** 3 } });
    try {
      // Each dd holds a 1.5 GiB buffer, filled (so really used) from /dev/zero, four times over.
      const r = await sb.exec(
        'for i in 1 2 3 4; do ( dd if=/dev/zero of=/dev/null bs=1536M count=4 iflag=fullblock 2>/dev/null; echo "exit $?" ) & done; wait; echo after',
        { timeoutMs: 60_000 },
      );
      const exits = [...r.stdout.matchAll(/^exit (\d+)$/gm)].map((m) => Number(m[1]));
      assert.equal(exits.length, 4, r.stdout + r.stderr);
      assert.ok(exits.filter((code) => code === 0).length < 4, `all four succeeded: ${exits.join(', ')}`);
      assert.ok(exits.some((code) => code === 137), `an offender is OOM-killed: ${exits.join(', ')}`);
      assert.match(r.stdout, /after\n$/, 'the shell that started them is unharmed');
      const [leaf] = readdirSync(control.folder).filter((d) => d.startsWith('sbx-'));
      const dir = `${control.folder}/${leaf}`;
      // memory.peak came with Linux 5.19.
      if (existsSync(`${dir}/memory.peak`)) assert.ok(Number(readFileSync(`${dir}/memory.peak`, 'utf8')) <= 2 * 1024 ** 3, 'the sandbox never held more than its limit');
      assert.match(readFileSync(`${dir}/memory.events`, 'utf8'), /^oom_kill [1-9]/m);
      assert.equal((await sb.exec('echo fine', { timeoutMs: 5000 })).stdout, 'fine\n');
    } finally {
      await sb.close();
    }
  });
});
