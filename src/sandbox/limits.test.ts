import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { DEFAULT_LIMITS, resolveLimits, type SandboxLimits } from './limits.ts';

describe('sandbox limits', () => {
  it('refuses a local limit that is not a whole number in its range, naming the field and the range', () => {
    const cases: [SandboxLimits, string, RegExp][] = [
      [{ memoryBytes: 0.5 }, 'limits.memoryBytes', /got 0\.5 \(expected a whole number from 16777216 to 1099511627776\)/],
      [{ diskBytes: 0.5 }, 'limits.diskBytes', /expected a whole number from 1048576 to 1099511627776/],
      [{ timeoutMs: 0.5 }, 'limits.timeoutMs', /expected a whole number from 1 to 2147483647/],
      [{ timeoutMs: 2 ** 31 }, 'limits.timeoutMs', /got 2147483648/],
      [{ maxProcesses: 0.5 }, 'limits.maxProcesses', /expected a whole number from 8 to 4194304/],
      [{ maxProcesses: 1e12 }, 'limits.maxProcesses', /got 1000000000000/],
      [{ memoryBytes: 1e300 }, 'limits.memoryBytes', /got 1e\+300/],
      [{ diskBytes: Infinity }, 'limits.diskBytes', /got Infinity/],
      [{ maxOutputBytes: 600_000_000 }, 'limits.maxOutputBytes', /expected a whole number from 1 to 33554432/],
      [{ cpus: 5000 }, 'limits.cpus', /expected a number from 0\.01 to 1024/],
    ];
    for (const [limits, where, message] of cases) {
      assert.throws(() => resolveLimits(limits), (e: unknown) => e instanceof InputError && e.where === where && message.test(e.message), JSON.stringify(limits));
    }
  });

  it('keeps limits at the ends of their ranges, and fractions of a core', () => {
    const limits = { timeoutMs: 2 ** 31 - 1, maxOutputBytes: 32 * 1024 ** 2, memoryBytes: 16 * 1024 ** 2, maxProcesses: 8, cpus: 0.5, diskBytes: 1024 ** 2 };
    assert.deepEqual(resolveLimits(limits), limits);
    assert.deepEqual(resolveLimits({}), DEFAULT_LIMITS);
  });
});
