import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError, getJson } from '../src/http.js';
import { retry } from '../src/retry.js';

function failing(times, value = 'done') {
  let calls = 0;
  return async () => {
    calls += 1;
    if (calls <= times) throw new Error(`fail ${calls}`);
    return value;
  };
}

describe('retry options', () => {
  it('caps each wait at maxDelayMs', async () => {
    const waits = [];
    await retry(failing(5), { retries: 5, baseDelayMs: 100, maxDelayMs: 500, sleep: async (ms) => waits.push(ms) });
    assert.deepEqual(waits, [100, 200, 400, 500, 500]);
  });

  it('does not cap without maxDelayMs', async () => {
    const waits = [];
    await retry(failing(4), { retries: 4, baseDelayMs: 10, sleep: async (ms) => waits.push(ms) });
    assert.deepEqual(waits, [10, 20, 40, 80]);
  });

  it('stops at once when shouldRetry says no', async () => {
    const seen = [];
    let calls = 0;
    const fn = async () => {
      calls += 1;
      throw new Error(calls === 1 ? 'temporary' : 'fatal');
    };
    await assert.rejects(
      retry(fn, { retries: 5, sleep: async () => {}, shouldRetry: (error, attempt) => (seen.push([error.message, attempt]), error.message !== 'fatal') }),
      /fatal/,
    );
    assert.equal(calls, 2);
    assert.deepEqual(seen, [['temporary', 1], ['fatal', 2]]);
  });

  it('reports each retry to onRetry before waiting', async () => {
    const events = [];
    await retry(failing(2), {
      baseDelayMs: 50,
      sleep: async (ms) => events.push(`sleep ${ms}`),
      onRetry: (error, attempt, delayMs) => events.push(`retry ${attempt} ${delayMs} ${error.message}`),
    });
    assert.deepEqual(events, ['retry 1 50 fail 1', 'sleep 50', 'retry 2 100 fail 2', 'sleep 100']);
  });

  it('does not call onRetry when the attempts run out', async () => {
    const retried = [];
    await assert.rejects(retry(failing(9), { retries: 1, sleep: async () => {}, onRetry: (_e, attempt) => retried.push(attempt) }), /fail 2/);
    assert.deepEqual(retried, [1]);
  });
});

describe('getJson', () => {
  it('retries server errors but not client errors', async () => {
    const statuses = [503, 404];
    let calls = 0;
    const fetch = async () => {
      const status = statuses[calls++];
      return { ok: false, status, json: async () => ({}) };
    };
    await assert.rejects(getJson('/x', { fetch, sleep: async () => {} }), (error) => error instanceof HttpError && error.status === 404);
    assert.equal(calls, 2);
  });

  it('retries server errors until success', async () => {
    let calls = 0;
    const fetch = async () => (++calls < 3 ? { ok: false, status: 500, json: async () => ({}) } : { ok: true, status: 200, json: async () => ({ ok: 1 }) });
    assert.deepEqual(await getJson('/x', { fetch, sleep: async () => {} }), { ok: 1 });
  });
});
