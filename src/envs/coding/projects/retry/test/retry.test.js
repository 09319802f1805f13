import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retry } from '../src/retry.js';

test('returns the first success', async () => {
  const waits = [];
  let calls = 0;
  const value = await retry(async () => {
    calls += 1;
    if (calls < 3) throw new Error('flaky');
    return 'ok';
  }, { sleep: async (ms) => waits.push(ms) });
  assert.equal(value, 'ok');
  assert.deepEqual(waits, [100, 200]);
});

test('throws the last error after the retries', async () => {
  let calls = 0;
  await assert.rejects(retry(async () => {
    calls += 1;
    throw new Error(`fail ${calls}`);
  }, { retries: 2, sleep: async () => {} }), /fail 3/);
});
