// Runs in its own process (node --test gives each file one), so hiding bwrap here affects nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSandbox, sandboxAvailability, spawnContained } from './index.ts';

describe('without bubblewrap', () => {
  it('reports bwrap unavailable, falls back to virtual once with a notice, and refuses an explicit bwrap', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent-gauntlet-test';
    const notices: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      notices.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const availability = await sandboxAvailability();
      assert.equal(availability.bwrap.available, false);
      assert.match(availability.bwrap.reason ?? '', /bwrap is not on PATH/);
      const first = await createSandbox({ backend: 'auto' });
      const second = await createSandbox({ backend: 'auto' });
      assert.deepEqual([first.backend, second.backend], ['virtual', 'virtual']);
      await Promise.all([first.close(), second.close()]);
      assert.equal(notices.filter((n) => n.includes('bubblewrap not found; using the in-process virtual sandbox')).length, 1);
      await assert.rejects(createSandbox({ backend: 'bwrap' }), /sandbox backend "bwrap" is not available: bwrap is not on PATH/);
      // A program asked to run inside bubblewrap is refused, never started on the host instead.
      await assert.rejects(spawnContained({ command: process.execPath, args: ['-e', ''] }), /cannot start ".+" inside bubblewrap: bwrap is not on PATH/);
    } finally {
      process.stderr.write = write;
      process.env.PATH = savedPath;
    }
  });
});
