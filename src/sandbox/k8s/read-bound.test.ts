// A read given `maxBytes` on a pod: the exec's stream is cut at the bound, so a larger file is
// refused with FileTooLargeError (not read whole, and not the infrastructure error of a file over
// the disk-sized limit), and a caller that passes nothing still gets the whole file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileTooLargeError } from '../files.ts';
import { sandboxAvailability } from '../index.ts';
import { fakeCluster } from './test-support.ts';

const { bwrap } = await sandboxAvailability();

describe('k8s bounded file reads', { skip: bwrap.available ? false : `the fake's pods need bwrap: ${bwrap.reason}` }, () => {
  const { open } = fakeCluster();

  it('refuses a file over maxBytes, reads one within it, and reads whole without it', async () => {
    const box = await open({ limits: { maxOutputBytes: 1000 } });
    try {
      assert.equal((await box.exec("head -c 200000 /dev/zero | tr '\\0' x > big", { timeoutMs: 10_000 })).exitCode, 0);
      await assert.rejects(box.readFile('big', { maxBytes: 5000 }), (e: unknown) => e instanceof FileTooLargeError && e.path === 'big' && e.maxBytes === 5000 && e.sizeBytes === undefined);
      assert.equal(await box.readFile('big', { maxBytes: 200_000 }), 'x'.repeat(200_000));
      assert.equal(await box.readFile('missing', { maxBytes: 10 }), null);
      assert.equal(await box.readFile('big'), 'x'.repeat(200_000));
    } finally {
      await box.close();
    }
  });
});
