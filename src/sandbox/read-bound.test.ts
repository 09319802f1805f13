// A read given `maxBytes` (ReadFileOptions) brings no more than that of a file into memory, on every
// local backend: a larger file is refused with FileTooLargeError naming the path as the agent gave
// it, one that grows while it is read is refused too, and a caller that passes nothing still gets
// the whole file. The walk's symlink checks are unchanged by the bound.
import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Sandbox } from '../core/index.ts';
import { hostAdapter } from './bwrap.ts';
import { FileTooLargeError, readAtMost, type OpenFile } from './files.ts';
import { createSandbox, sandboxAvailability, SandboxPathError } from './index.ts';

const { bwrap } = await sandboxAvailability();
const MiB = 1024 * 1024;

/** A file whose size says `statSize` and whose reads never run out, counting the bytes handed over. */
function growingFile(statSize: number): OpenFile & { served: number } {
  const file = {
    served: 0,
    stat: () => Promise.resolve({ size: statSize }),
    read: (buffer: Buffer, offset: number, length: number) => {
      buffer.fill(0x61, offset, offset + length);
      file.served += length;
      return Promise.resolve({ bytesRead: length });
    },
  };
  return file;
}

const tooLarge = (path: string, maxBytes: number, sizeBytes: number | undefined) => (error: unknown) => {
  assert.ok(error instanceof FileTooLargeError, `expected FileTooLargeError, got ${String(error)}`);
  assert.deepEqual([error.path, error.maxBytes, error.sizeBytes], [path, maxBytes, sizeBytes]);
  return true;
};

describe('bounded file reads', () => {
  it('reads an open file within the bound, stops one byte past it when the file grew after its size was taken, and refuses a larger one unread', async () => {
    const grew = growingFile(10);
    await assert.rejects(readAtMost(grew, 1000, 'grows'), tooLarge('grows', 1000, undefined));
    assert.equal(grew.served, 1001, 'the read stopped one byte past the bound');

    const large = growingFile(5 * MiB);
    await assert.rejects(readAtMost(large, 1000, 'large'), tooLarge('large', 1000, 5 * MiB));
    assert.equal(large.served, 0, 'a file whose size passes the bound is not read at all');

    // The bound itself is allowed; a file whose size says 0 (and grows by the buffer) is read within it too.
    const sizeless = growingFile(0);
    await assert.rejects(readAtMost(sizeless, 200_000, 'sizeless'), tooLarge('sizeless', 200_000, undefined));
    assert.equal(sizeless.served, 200_001);
    const exact = { stat: () => Promise.resolve({ size: 3 }), read: (buffer: Buffer, offset: number) => Promise.resolve({ bytesRead: offset === 0 ? buffer.write('abc', 0) : 0 }) };
    assert.equal((await readAtMost(exact, 3, 'exact')).toString(), 'abc');
  });

  it('refuses a file of gigabytes on the host by its size, which a whole read could not even hold', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gauntlet-read-bound-'));
    try {
      // Sparse: four GiB that take no disk, past the two GiB Node reads into one buffer.
      await writeFile(join(root, 'huge.bin'), '');
      await truncate(join(root, 'huge.bin'), 4 * 1024 * MiB);
      await writeFile(join(root, 'small.txt'), 'small');
      const fs = hostAdapter(undefined, root);
      await assert.rejects(fs.readText(join(root, 'huge.bin'), MiB), tooLarge(join(root, 'huge.bin'), MiB, 4 * 1024 * MiB));
      assert.equal(await fs.readText(join(root, 'small.txt'), 5), 'small');
      await assert.rejects(fs.readText(join(root, 'small.txt'), 4), tooLarge(join(root, 'small.txt'), 4, 5));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  const backends = [{ backend: 'virtual' as const, skip: false }, { backend: 'bwrap' as const, skip: !bwrap.available && `bwrap: ${bwrap.reason ?? 'unavailable'}` }];
  for (const { backend, skip } of backends) {
    it(`${backend}: refuses a file over maxBytes naming the agent's path and its size, keeps the symlink checks, and reads whole without the option`, { skip }, async () => {
      const box: Sandbox = await createSandbox({ backend, files: { 'notes.txt': 'héllo' } });
      try {
        await box.writeFile('out/big.bin', 'x'.repeat(3_000_000));
        const made = await box.exec('ln -s ../.. out/escape && ln -s big.bin out/link', { timeoutMs: 20_000 });
        assert.equal(made.exitCode, 0, made.stderr);
        await assert.rejects(box.readFile('out/big.bin', { maxBytes: 1000 }), tooLarge('out/big.bin', 1000, 3_000_000));
        await assert.rejects(box.readFile('/work/out/link', { maxBytes: 1000 }), tooLarge('/work/out/link', 1000, 3_000_000));
        await assert.rejects(box.readFile('out/escape', { maxBytes: 1000 }), SandboxPathError);
        await assert.rejects(box.readFile('../etc/passwd', { maxBytes: 1000 }), SandboxPathError);
        assert.equal(await box.readFile('missing', { maxBytes: 1000 }), null);
        // 'é' is two bytes: the bound counts the file's bytes.
        assert.equal(await box.readFile('notes.txt', { maxBytes: 6 }), 'héllo');
        await assert.rejects(box.readFile('notes.txt', { maxBytes: 5 }), tooLarge('notes.txt', 5, 6));
        assert.equal((await box.readFile('out/big.bin'))?.length, 3_000_000, 'a caller that passes no bound gets the whole file');
        await assert.rejects(box.readFile('notes.txt', { maxBytes: -1 }), /sandbox readFile maxBytes: got -1 \(expected a whole number of bytes from 0 upwards\)/);
      } finally {
        await box.close();
      }
    });
  }

});
