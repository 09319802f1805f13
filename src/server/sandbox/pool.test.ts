import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sandbox } from '../../core/index.ts';
import { SandboxPool } from './pool.ts';

/** A sandbox that runs nothing and counts its closes: the pool's bookkeeping is what is under test. */
function idleSandbox(): Sandbox & { closes: number } {
  const box = {
    specificationVersion: 'v1' as const,
    backend: 'virtual' as const,
    workdir: '/work',
    closes: 0,
    exec: () => Promise.reject(new Error('not used')),
    readFile: () => Promise.resolve(null),
    writeFile: () => Promise.resolve(),
    listFiles: () => Promise.resolve([]),
    close: () => {
      box.closes++;
      return Promise.resolve();
    },
  };
  return box;
}

describe('sandbox pool leases', () => {
  it('keeps a sandbox whose command runs past its lease, and reaps it a TTL after the command ends', async () => {
    let now = 1_000_000;
    const pool = new SandboxPool({ ttlMs: 10_000, maxSandboxes: 4, now: () => now });
    const box = idleSandbox();
    const { id } = await pool.open(() => Promise.resolve(box));
    let finishCommand: (value: string) => void = () => undefined;
    const command = pool.track(id, new Promise<string>((resolve) => (finishCommand = resolve)));

    now += 60_000; // no heartbeat for six TTLs: the client is busy waiting for its command
    assert.deepEqual(await pool.reap(), [], 'a running command counts as activity');
    assert.equal(box.closes, 0);

    finishCommand('done');
    assert.equal(await command, 'done');
    now += 9_999;
    assert.deepEqual(await pool.reap(), [], 'the lease runs from the end of the command');
    now += 2;
    assert.deepEqual(await pool.reap(), [id]);
    assert.equal(box.closes, 1);
  });
});

describe('sandbox pool shutdown', () => {
  it('closes a sandbox whose creation finishes after the pool closed, and refuses it to its client', async () => {
    const pool = new SandboxPool({ ttlMs: 10_000, maxSandboxes: 4, now: Date.now });
    const box = idleSandbox();
    let finishCreating: (sandbox: Sandbox) => void = () => undefined;
    const opening = pool.open(() => new Promise<Sandbox>((resolve) => (finishCreating = resolve)));
    const stopping = pool.closeAll();
    finishCreating(box);
    await assert.rejects(opening, /stopping/);
    await stopping;
    assert.equal(box.closes, 1, 'closed by the time closeAll returns');
    assert.equal(pool.stats().sandboxes, 0);
    await assert.rejects(pool.open(() => Promise.resolve(idleSandbox())), /stopping/);
  });
});
