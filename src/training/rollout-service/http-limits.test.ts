// The rollout service bounds what one client may hold (sockets past `maxConnections` turned away,
// request heads sent a byte at a time cut) and never times a batch's stream, however long its
// groups take.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { startFakeEngine, type FakeEngine } from '../fake-engine/index.ts';
import { fillConnections, getHead, openRaw, trickleHead, type RawSocket } from '../../../test/support/raw-sockets.ts';
import { startRolloutService, type RolloutService } from './service.ts';
import { buttonsCatalog, buttonTask, Gate, isSlow, sampledToolWalk, serviceOptions } from './test-support.ts';

// A failing test should fail, not wait out Node's minute-long defaults.
const GUARD = { timeout: 30_000 };
const FAST = { headersTimeoutMs: 100, requestTimeoutMs: 100 };

describe('rollout service HTTP limits', () => {
  let engine: FakeEngine;
  const opened: { services: RolloutService[]; sockets: RawSocket[] } = { services: [], sockets: [] };
  before(async () => {
    engine = await startFakeEngine({ policy: sampledToolWalk() });
  });
  after(async () => {
    for (const raw of opened.sockets) raw.socket.destroy();
    await Promise.all(opened.services.map((service) => service.close()));
    await engine.close();
  });

  async function serve(over: Parameters<typeof serviceOptions>[1]): Promise<RolloutService> {
    const service = await startRolloutService(serviceOptions(engine, over));
    opened.services.push(service);
    return service;
  }

  it('turns away a connection past maxConnections while those open are still answered', GUARD, async () => {
    const service = await serve({ maxConnections: 2 });
    const { answers, extra, afterwards, sockets } = await fillConnections(service.url, 2, getHead('/health', new URL(service.url).host));
    opened.sockets.push(...sockets);
    assert.deepEqual({ answers, extra, afterwards }, { answers: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], extra: null, afterwards: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'] });
  });

  it('cuts a client that sends its request head a byte at a time', GUARD, async () => {
    const service = await serve({ httpTimeouts: FAST });
    const slow = await openRaw(service.url);
    opened.sockets.push(slow);
    await trickleHead(slow, new URL(service.url).host);
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('keeps a batch stream open past the request and head timeouts until its groups finish', GUARD, async () => {
    const gate = new Gate(isSlow);
    const service = await serve({ httpTimeouts: FAST, catalog: buttonsCatalog([buttonTask('slow', { slow: true })]), modelEnvironment: { env: {}, fetch: gate.fetch } });
    const created = await fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ groups: 1, policyVersion: 0 }) });
    const batch = (await created.json()) as { id: string };
    await gate.heldAtLeast(1);
    const stream = await fetch(`${service.url}/v1/batches/${batch.id}/stream`);
    assert.equal(stream.status, 200);
    // A socket opened since has been cut for sending nothing: the timeout checks have run past the stream's request.
    const idle = await openRaw(service.url);
    opened.sockets.push(idle);
    await idle.closed;
    gate.release({ stop: true });
    const lines = (await stream.text()).trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    assert.deepEqual(lines.map((line) => line.type).filter((type) => type === 'group'), ['group'], JSON.stringify(lines).slice(0, 2000));
  });

  it('names a bad limit', async () => {
    await assert.rejects(serve({ maxConnections: 0 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnections');
  });
});
