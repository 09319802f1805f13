// What one client may hold on the OpenEnv server: sockets beyond `maxConnections` are turned away
// without disturbing the sessions already open, slow request heads are cut, and a WebSocket
// episode is never timed as a request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import { closedAfterTests, fillConnections, getHead, statusOf, trickleHead } from '../../../test/support/raw-sockets.ts';
import { startOpenEnvServer, type OpenEnvServer } from './server.ts';

// A failing test should fail, not wait out Node's minute-long defaults.
const GUARD = { timeout: 20_000 };
const FAST = { headersTimeoutMs: 100, requestTimeoutMs: 100 };

const opened = closedAfterTests<OpenEnvServer>();

async function serve(options: Partial<Parameters<typeof startOpenEnvServer>[0]>): Promise<OpenEnvServer> {
  return opened.started(await startOpenEnvServer({ env: 'mail', port: 0, ...options }));
}

const open = opened.open;

describe('OpenEnv server HTTP limits', () => {
  it('turns away a connection past maxConnections while the open session and request connection go on', GUARD, async () => {
    const server = await serve({ maxSessions: 1, maxConnections: 2, httpTimeouts: { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 } });
    const host = new URL(server.url).host;
    const episode = await OpenEnvSocket.connect(server.url);
    assert.equal(((await episode.reset({})) as { type: string }).type, 'observation');
    const plain = await open(server.url);
    assert.equal(await statusOf(plain, getHead('/health', host)), 'HTTP/1.1 200 OK');

    const extra = await open(server.url);
    assert.equal(await statusOf(extra, getHead('/health', host)), null);
    assert.equal(extra.received(), '');

    assert.equal(((await episode.state()) as { type: string }).type, 'state');
    assert.equal(await statusOf(plain, getHead('/health', host)), 'HTTP/1.1 200 OK');
    await episode.close();
  });

  it('holds one client to a quarter of maxConnections unless told otherwise, so it cannot take every socket', GUARD, async () => {
    const server = await serve({ maxSessions: 1, maxConnections: 80 });
    assert.deepEqual([server.stats().maxConnections, server.stats().maxConnectionsPerClient], [80, 20]);
    const head = getHead('/health', new URL(server.url).host);
    const filled = await fillConnections(server.url, 20, head);
    opened.keep(filled.sockets);
    assert.equal(filled.extra, null, 'the 21st socket from this client is closed on arrival');
    assert.deepEqual(new Set([...filled.answers, ...filled.afterwards]), new Set(['HTTP/1.1 200 OK']));

    // null lifts it: the same client's 21st socket is served.
    const unlimited = await serve({ maxSessions: 1, maxConnections: 80, maxConnectionsPerClient: null });
    assert.equal(unlimited.stats().maxConnectionsPerClient, 80);
    const more = await fillConnections(unlimited.url, 20, getHead('/health', new URL(unlimited.url).host));
    opened.keep(more.sockets);
    assert.equal(more.extra, 'HTTP/1.1 200 OK');
  });

  it('never holds one client below what its sessions need, so one trainer (on loopback every client is one) can fill them all', async () => {
    const many = await serve({ maxSessions: 1000 });
    // A quarter of the 4096 default would be 1024; the sessions need 1000 and /health a few more.
    assert.deepEqual([many.stats().maxConnections, many.stats().maxConnectionsPerClient], [4096, 1024]);
    const most = await serve({ maxSessions: 2000 });
    assert.deepEqual([most.stats().maxConnections, most.stats().maxConnectionsPerClient], [4096, 2016]);
    // Where that is every socket there is nothing left to hold back.
    const tight = await serve({ maxSessions: 1, maxConnections: 2 });
    assert.equal(tight.stats().maxConnectionsPerClient, 2);
    const given = await serve({ maxConnectionsPerClient: 3 });
    assert.equal(given.stats().maxConnectionsPerClient, 3);
  });

  it('cuts a client that sends its request head a byte at a time', GUARD, async () => {
    const server = await serve({ httpTimeouts: FAST });
    const slow = await open(server.url);
    await trickleHead(slow, new URL(server.url).host);
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('keeps a WebSocket episode open past the request and head timeouts', GUARD, async () => {
    const server = await serve({ httpTimeouts: FAST });
    const episode = await OpenEnvSocket.connect(server.url);
    assert.equal(((await episode.reset({})) as { type: string }).type, 'observation');
    // A socket that sent nothing has been cut: the server's timeout checks have run past the episode's upgrade.
    const idle = await open(server.url);
    await idle.closed;
    assert.equal(((await episode.state()) as { type: string }).type, 'state');
    assert.equal(server.stats().sessions, 1);
    await episode.close();
  });

  it('refuses a stateless request on a full server before reading its body, then serves one once the slot frees', GUARD, async () => {
    const server = await serve({ maxSessions: 1 });
    const host = new URL(server.url).host;
    const episode = await OpenEnvSocket.connect(server.url);
    assert.equal(((await episode.reset({})) as { type: string }).type, 'observation');

    // Heads promising megabytes, and only a few bytes of them: the answer cannot wait for the rest.
    const promised = [
      `POST /reset HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n{"task_id": "`,
      `POST /step HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"action": {"ty\r\n`,
    ];
    for (const request of promised) {
      const raw = await open(server.url);
      raw.socket.write(request);
      // The server closes the connection after its answer, so the unread body is never taken for a request.
      await raw.closed;
      const [head = '', body = ''] = raw.received().split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 503 /);
      assert.match(head, /^retry-after: 1$/im);
      assert.match(head, /^connection: close$/im);
      assert.deepEqual(JSON.parse(body), { detail: 'server at capacity: 1 of 1 sessions in use', active_sessions: 1, max_sessions: 1 });
    }

    await episode.close();
    await waitFor(() => server.stats().sessions === 0, 'the socket session to end');
    const reply = await new OpenEnvHttpClient(server.url).reset({});
    assert.equal(reply.status, 200);
    assert.equal(server.stats().sessions, 0);
  });

  it('gives back the slot of a stateless request whose body turns out bad', GUARD, async () => {
    const server = await serve({ maxSessions: 1 });
    const http = new OpenEnvHttpClient(server.url);
    assert.equal((await http.reset('{"task_id": ')).status, 422);
    assert.equal((await http.step({ action: { type: 'no_such_action' } })).status, 422);
    assert.equal(server.stats().sessions, 0);
    assert.equal((await http.step({ action: { type: 'list_tools' } })).status, 200);
  });

  it('refuses fewer connections than sessions, which would cut clients off unanswered', async () => {
    await assert.rejects(
      startOpenEnvServer({ env: 'mail', port: 0, maxSessions: 100, maxConnections: 50 }),
      (error: unknown) => error instanceof InputError && error.where === 'maxConnections' && /fewer than the 100 sessions allowed/.test(error.message) && /at least 100/.test(error.message),
    );
    await assert.rejects(startOpenEnvServer({ env: 'mail', port: 0, maxConnections: 0 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnections');
  });
});
