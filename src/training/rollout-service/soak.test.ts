import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelClient, ModelResult } from '../../core/index.ts';
import { POLICY_HISTORY_KEPT, PolicyEndpoints, type PolicyEndpoint } from './policy.ts';

// A session runs for weeks and a trainer may announce a version every step: what the session
// keeps per announcement must stay bounded.

function client(): ModelClient & { closes: number } {
  return {
    specificationVersion: 'v1',
    spec: 'openai:http://engine/v1#m',
    closes: 0,
    complete: async () => ({}) as ModelResult,
    async close() {
      this.closes++;
    },
  };
}

function endpoint(version: number, of: ModelClient): PolicyEndpoint {
  return { version, baseUrl: `http://engine-${version}/v1`, model: 'm', spec: `openai:http://engine-${version}/v1#m`, client: of, announcedAt: '2026-01-05T09:00:00.000Z' };
}

describe('policy endpoints over a long session', () => {
  it('lists the last POLICY_HISTORY_KEPT announcements however many arrive, counts them all, and holds one client', async () => {
    const clients = [client()];
    const endpoints = new PolicyEndpoints(endpoint(0, clients[0]!));
    const announced = 5 * POLICY_HISTORY_KEPT;
    for (let version = 1; version < announced; version++) {
      clients.push(client());
      endpoints.advance(endpoint(version, clients.at(-1)!));
    }
    const history = endpoints.announced();
    assert.equal(history.length, POLICY_HISTORY_KEPT);
    assert.deepEqual([history[0]!.version, history.at(-1)!.version], [announced - POLICY_HISTORY_KEPT, announced - 1], 'the latest, oldest first');
    assert.equal(endpoints.announcements, announced);
    assert.equal(endpoints.openClients(), 1);
    assert.equal(clients.filter((c) => c.closes === 1).length, announced - 1, 'every superseded client was closed');
    await endpoints.close();
  });
});
