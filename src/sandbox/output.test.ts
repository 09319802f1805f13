// A command whose output cannot be held as a string (V8 refuses strings past ~512 Mi characters)
// must fail on its own: the exception comes from a stream handler, where it would end the process.
// Producing half a gigabyte is slow and heavy, so Buffer's decoding is made to refuse far sooner.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createSandbox, sandboxAvailability } from './index.ts';

const { bwrap } = await sandboxAvailability();

/** From here on, decoding any buffer of `bytes` or more throws as V8 does for an over-long string. */
function refuseDecodingFrom(t: TestContext, bytes: number): void {
  const decode = Buffer.prototype.toString;
  t.mock.method(Buffer.prototype, 'toString', function (this: Buffer, ...args: Parameters<Buffer['toString']>) {
    if (this.length >= bytes) throw Object.assign(new Error('Cannot create a string longer than 0x1fffffe8 characters'), { code: 'ERR_STRING_TOO_LONG' });
    return decode.apply(this, args);
  });
}

describe('output that cannot be collected', () => {
  for (const mode of ['persistent', 'fresh'] as const) {
    it(`fails the command, not the process, and the ${mode} sandbox runs the next command`, async (t) => {
      if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
      const sb = await createSandbox({ backend: 'bwrap', mode });
      try {
        refuseDecodingFrom(t, 100_000);
        const huge = await sb.exec('head -c 200000 /dev/zero', { timeoutMs: 10_000 });
        t.mock.restoreAll();
        assert.equal(huge.exitCode, 1);
        assert.equal(huge.stdout, '');
        assert.match(huge.stderr, /^sandbox: the command's output could not be collected: Cannot create a string longer than/);
        assert.equal(huge.sandboxFailure, undefined, 'the command failed, not the sandbox');
        assert.equal((await sb.exec('echo next', { timeoutMs: 10_000 })).stdout, 'next\n');
      } finally {
        t.mock.restoreAll();
        await sb.close();
      }
    });
  }
});
