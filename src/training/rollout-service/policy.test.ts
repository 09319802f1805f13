import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelClient, ModelResult } from '../../core/index.ts';
import { PolicyEndpoints, routedModel, type PolicyEndpoint } from './policy.ts';

/** A client whose calls wait until the test answers them, and which counts its closes. */
function heldClient(): ModelClient & { closes: number; answer: () => void } {
  const waiting: (() => void)[] = [];
  return {
    specificationVersion: 'v1',
    spec: 'openai:http://engine/v1#m',
    closes: 0,
    complete: () => new Promise<ModelResult>((resolve) => waiting.push(() => resolve({} as ModelResult))),
    answer() {
      waiting.shift()?.();
    },
    async close() {
      this.closes++;
    },
  };
}

function endpoint(version: number, client: ModelClient): PolicyEndpoint {
  return { version, baseUrl: `http://engine-${version}/v1`, model: 'm', spec: `openai:http://engine-${version}/v1#m`, client, announcedAt: '2026-01-05T09:00:00.000Z' };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('policy endpoints', () => {
  it('closes and lets go of a superseded endpoint once its last call in flight ends, and keeps every version in the history', async () => {
    const [a, b, c] = [heldClient(), heldClient(), heldClient()];
    const endpoints = new PolicyEndpoints(endpoint(0, a));
    const versions: number[] = [];
    const model = routedModel(endpoints, (v) => versions.push(v));
    const call = model.complete({ messages: [], tools: [], sampling: {} } as never, {} as never);
    endpoints.advance(endpoint(1, b));
    assert.equal(a.closes, 0, 'a call in flight keeps its client open');
    assert.equal(endpoints.openClients(), 2);
    a.answer();
    await call;
    await flush();
    assert.equal(a.closes, 1, 'the superseded client is closed when its last call ends');
    endpoints.advance(endpoint(2, c));
    await flush();
    assert.equal(b.closes, 1, 'a superseded client with no call in flight is closed at once');
    assert.equal(endpoints.openClients(), 1);
    assert.deepEqual(endpoints.announced().map((e) => [e.version, 'client' in e]), [[0, false], [1, false], [2, false]]);
    assert.deepEqual(versions, [0]);
    // The same endpoint announced again (weights updated in place) keeps its client.
    endpoints.advance({ ...endpoint(3, c), spec: endpoint(2, c).spec });
    await endpoints.close();
    assert.deepEqual([a.closes, b.closes, c.closes], [1, 1, 1]);
  });
});
