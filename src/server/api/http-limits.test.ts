// The review API bounds what one client may hold: sockets past `maxConnections` are turned away
// without disturbing those open, and a request head sent a byte at a time is cut.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { closedAfterTests, fillConnections, getHead, trickleHead } from '../../../test/support/raw-sockets.ts';
import { startApiServer, type ApiServer } from './server.ts';

// A failing test should fail, not wait out Node's minute-long defaults.
const GUARD = { timeout: 20_000 };

const opened = closedAfterTests<ApiServer>();

async function serve(options: { maxConnections?: number; httpTimeouts?: { headersTimeoutMs: number; requestTimeoutMs: number } }): Promise<ApiServer> {
  return opened.started(await startApiServer({ store: openStore(':memory:'), port: 0, sandbox: 'virtual', ...options }));
}

describe('review API HTTP limits', () => {
  it('turns away a connection past maxConnections while those open are still answered', GUARD, async () => {
    const server = await serve({ maxConnections: 2 });
    const { answers, extra, afterwards, sockets } = await fillConnections(server.url, 2, getHead('/api/runs', new URL(server.url).host));
    opened.keep(sockets);
    assert.deepEqual(answers, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.equal(extra, null);
    assert.deepEqual(afterwards, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  });

  it('cuts a client that sends its request head a byte at a time', GUARD, async () => {
    const server = await serve({ httpTimeouts: { headersTimeoutMs: 100, requestTimeoutMs: 100 } });
    const slow = await opened.open(server.url);
    await trickleHead(slow, new URL(server.url).host);
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('names a bad limit', async () => {
    await assert.rejects(serve({ maxConnections: -1 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnections');
  });
});
