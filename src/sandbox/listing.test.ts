// A listing hashes each file a piece at a time: a file as large as the sandbox's disk allows is
// never brought into the harness's memory whole (Node cannot even read one of 2 GiB in one go).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSandbox, sandboxAvailability } from './index.ts';

const { bwrap } = await sandboxAvailability();
const GiB = 1024 ** 3;
/** sha256 of 2 GiB of zero bytes (`head -c 2147483648 /dev/zero | sha256sum`). */
const ZEROS_2GIB_SHA256 = 'a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51';

describe('sandbox listings', () => {
  it('list a 2 GiB file the agent made (sparse, within its disk limit) with its size and hash', { skip: bwrap.available ? false : bwrap.reason, timeout: 120_000 }, async () => {
    const box = await createSandbox({ backend: 'bwrap', files: { 'small.txt': 'abc' }, limits: { diskBytes: 3 * GiB } });
    try {
      const made = await box.exec('truncate -s 2G big.bin', { timeoutMs: 20_000 });
      assert.equal(made.exitCode, 0, made.stderr);
      const files = await box.listFiles();
      assert.deepEqual(
        files.map((f) => [f.path, f.size, f.sha256]),
        [
          ['big.bin', 2 * GiB, ZEROS_2GIB_SHA256],
          ['small.txt', 3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
        ],
      );
    } finally {
      await box.close();
    }
  });
});
