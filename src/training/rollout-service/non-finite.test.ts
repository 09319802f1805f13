// What a trainer reading the stream gets for a −∞ logprob (an engine's token of probability 0,
// written -1e999): never a stand-in. Such a call is no training data (its importance ratio is
// infinite), so its group is not handed out, and the reason is named; every line is strict JSON.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeEngine, type FakeEngine } from '../fake-engine/index.ts';
import { RolloutServiceClient } from './client.ts';
import type { StreamLine } from './schemas.ts';
import { startRolloutService } from './service.ts';
import { serviceOptions } from './test-support.ts';

/** The engine's answers with their first logprob written as an engine writes −∞. */
const zeroProbability: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const text = (await response.text()).replace(/"logprob":\s*-?[\d.eE+-]+/, '"logprob": -1e999');
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(text, { status: response.status, headers });
};

describe('rollout service: a −∞ logprob', () => {
  let engine: FakeEngine;
  before(async () => (engine = await startFakeEngine()));
  after(() => engine.close());

  it('hands out no group holding one, naming why, and writes no line a strict JSON reader refuses', async () => {
    const service = await startRolloutService(serviceOptions(engine, { maxFailedGroups: 2, modelEnvironment: { env: {}, fetch: zeroProbability } }));
    try {
      const client = new RolloutServiceClient(service.url);
      const batch = await client.requestBatch({ groups: 1, policyVersion: 0 });
      const lines: StreamLine[] = [];
      for await (const line of client.stream(batch.id)) lines.push(line);
      assert.deepEqual(lines.map((l) => l.type), ['error']);
      assert.match(lines[0]?.type === 'error' ? lines[0].message : '', /invalid_tokens: .*logprob -Infinity at completion token 0/);
      const dropped = (service.core.stats() as { groups: { dropped: Record<string, number> } }).groups.dropped;
      assert.equal(dropped['unexportable: invalid_tokens'], 2);
    } finally {
      await service.close();
    }
  });
});
