import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { fillConnections, getHead, openRaw, statusOf, trickleHead, untilReceived, type RawSocket } from '../../test/support/raw-sockets.ts';
import { waitFor } from '../../test/support/wait.ts';
import { InputError } from './errors.ts';
import { applyHttpLimits, clientOf, DEFAULT_HTTP_TIMEOUTS, resolveHttpLimits, type HttpLimits } from './http-limits.ts';

// A test that fails should fail, not hang until Node's own minute-long timeouts.
const GUARD = { timeout: 20_000 };
const FAST: HttpLimits = { maxConnections: 100, headersTimeoutMs: 100, requestTimeoutMs: 100, keepAliveTimeoutMs: 60_000 };

const servers: Server[] = [];
const clients: RawSocket[] = [];
after(async () => {
  // Upgraded sockets are no longer the server's to close: their clients end them.
  for (const client of clients) client.socket.destroy();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function open(url: string, from: { localAddress?: string } = {}): Promise<RawSocket> {
  const raw = await openRaw(url, from);
  clients.push(raw);
  return raw;
}

/** A server answering `/` with "ok"; `/stream` and `/slow` hand their response to `held`. */
async function serve(limits: HttpLimits, held: (res: ServerResponse, path: string) => void = () => {}): Promise<{ server: Server; url: string; logged: string[] }> {
  const server = createServer((req, res) => {
    if (req.url === '/stream' || req.url === '/slow') return held(res, req.url);
    res.end('ok');
  });
  const logged: string[] = [];
  applyHttpLimits(server, limits, (line) => logged.push(line));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logged };
}

/** Proof that the server's timeout checks have run past `FAST`'s timeouts: a socket that sent nothing has been cut. */
async function timeoutsHavePassed(url: string): Promise<void> {
  const idle = await open(url);
  await idle.closed;
}

describe('resolveHttpLimits', () => {
  const defaults: HttpLimits = { maxConnections: 256, ...DEFAULT_HTTP_TIMEOUTS };

  it('keeps the defaults for what the caller leaves out', () => {
    assert.deepEqual(resolveHttpLimits(defaults, { maxConnections: 9, httpTimeouts: { keepAliveTimeoutMs: 70_000 } }), { ...defaults, maxConnections: 9, keepAliveTimeoutMs: 70_000 });
    assert.deepEqual(resolveHttpLimits(defaults), defaults);
  });

  it('names the option at fault and what it expected', () => {
    assert.throws(() => resolveHttpLimits(defaults, { maxConnections: 0 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnections' && /got 0/.test(error.message) && /1 to 1,000,000/.test(error.message));
    assert.throws(() => resolveHttpLimits(defaults, { maxConnections: 2.5 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnections');
    assert.throws(() => resolveHttpLimits(defaults, { maxConnectionsPerClient: 0 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnectionsPerClient' && /1 to 1,000,000/.test(error.message));
    assert.throws(() => resolveHttpLimits(defaults, { httpTimeouts: { requestTimeoutMs: 0 } }), (error: unknown) => error instanceof InputError && error.where === 'httpTimeouts.requestTimeoutMs');
    assert.throws(
      () => resolveHttpLimits(defaults, { httpTimeouts: { headersTimeoutMs: 400_000 } }),
      (error: unknown) => error instanceof InputError && error.where === 'httpTimeouts.headersTimeoutMs' && /at most requestTimeoutMs/.test(error.message),
    );
  });
});

describe('applyHttpLimits', () => {
  it('sets Node\'s limits on the server', async () => {
    const { server } = await serve({ maxConnections: 7, headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 3_000 });
    assert.deepEqual([server.maxConnections, server.headersTimeout, server.requestTimeout, server.keepAliveTimeout], [7, 1_000, 2_000, 3_000]);
  });

  it('refuses a server already listening, whose timeout checks could no longer be changed', async () => {
    const { server } = await serve(FAST);
    assert.throws(() => applyHttpLimits(server, FAST), /already listening/);
  });

  it('closes a connection over the limit at once while those already open keep being served', GUARD, async () => {
    const { url, logged } = await serve({ ...FAST, maxConnections: 2, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const host = new URL(url).host;
    const first = await open(url);
    const second = await open(url);
    assert.equal(await statusOf(first, getHead('/', host)), 'HTTP/1.1 200 OK');
    assert.equal(await statusOf(second, getHead('/', host)), 'HTTP/1.1 200 OK');

    const extra = await open(url);
    // Either the socket is gone before the request is written or the request goes unanswered.
    assert.equal(await statusOf(extra, getHead('/', host)).catch(() => null), null);
    assert.equal(extra.received(), '');

    // The connections already open are untouched by the one turned away.
    assert.equal(await statusOf(first, getHead('/', host)), 'HTTP/1.1 200 OK');
    assert.equal(await statusOf(second, getHead('/', host)), 'HTTP/1.1 200 OK');
    assert.match(logged.join('\n'), /closed 1 connection on arrival so far: 2 at once is the limit/);
  });

  it('closes a client\'s connections past its own limit while other clients, and its first ones, are served', GUARD, async () => {
    const { server, url, logged } = await serve({ ...FAST, maxConnections: 100, maxConnectionsPerClient: 2, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const host = new URL(url).host;
    const filled = await fillConnections(url, 2, getHead('/', host));
    clients.push(...filled.sockets);
    assert.deepEqual([filled.answers, filled.extra, filled.afterwards], [['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], null, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']]);
    const [first, , extra] = filled.sockets as [RawSocket, RawSocket, RawSocket];
    await extra.closed;
    // Another address on the loopback network is another client, with slots of its own.
    const other = await open(url, { localAddress: '127.0.0.2' });
    assert.equal(await statusOf(other, getHead('/', host)), 'HTTP/1.1 200 OK');
    assert.match(logged.join('\n'), /closed 1 connection on arrival so far from clients holding 2 already \(maxConnectionsPerClient\)/);

    // A slot given back is free again once the server has seen the socket close.
    first.socket.destroy();
    await waitFor(async () => (await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)))) === 2, 'the server sees the closed socket');
    const again = await open(url);
    assert.equal(await statusOf(again, getHead('/', host)), 'HTTP/1.1 200 OK');
  });

  it('counts an IPv4 address alone and an IPv6 address by its /64 network', () => {
    assert.equal(clientOf('203.0.113.7'), '203.0.113.7');
    assert.equal(clientOf('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientOf('2001:db8:0:1:aaaa::1'), '2001:db8:0:1::/64');
    assert.equal(clientOf('2001:DB8:0000:0001:ffff:ffff:ffff:ffff'), '2001:db8:0:1::/64');
    assert.equal(clientOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientOf('::1'), '0:0:0:0::/64');
    assert.equal(clientOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });

  it('cuts a client that sends its request head a byte at a time', GUARD, async () => {
    const { url } = await serve(FAST);
    const slow = await open(url);
    await trickleHead(slow);
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('cuts a connection that never sends a byte', GUARD, async () => {
    const { url } = await serve(FAST);
    const idle = await open(url);
    await idle.closed;
    assert.match(idle.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('lets a streamed response run on long past the request and head timeouts', GUARD, async () => {
    let response: ServerResponse | undefined;
    const { url } = await serve(FAST, (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      response = res;
    });
    const client = await open(url);
    assert.equal(await statusOf(client, getHead('/stream', new URL(url).host)), 'HTTP/1.1 200 OK');
    await untilReceived(client, 'data: first');
    await timeoutsHavePassed(url);
    response!.end('data: last\n\n');
    // The chunked body's last chunk: the whole stream arrived on a connection still open.
    await untilReceived(client, '0\r\n\r\n');
    assert.match(client.received(), /data: first[\s\S]*data: last/);
    assert.equal(client.socket.destroyed, false);
  });

  it('lets a handler take longer than the timeouts before its first byte (a long command)', GUARD, async () => {
    let response: ServerResponse | undefined;
    const { url } = await serve(FAST, (res) => (response = res));
    const client = await open(url);
    const answered = statusOf(client, getHead('/slow', new URL(url).host));
    await waitFor(() => response !== undefined, 'the handler to hold the request');
    await timeoutsHavePassed(url);
    response!.end('done');
    assert.equal(await answered, 'HTTP/1.1 200 OK');
  });

  it('leaves an upgraded connection open past the timeouts', GUARD, async () => {
    const { server, url } = await serve(FAST);
    let upgraded: RawSocket['socket'] | undefined;
    server.on('upgrade', (_request, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (chunk) => socket.write(chunk));
      upgraded = socket as RawSocket['socket'];
    });
    const client = await open(url);
    assert.equal(await statusOf(client, getHead('/', new URL(url).host, 'Connection: Upgrade', 'Upgrade: echo')), 'HTTP/1.1 101 Switching Protocols');
    await waitFor(() => upgraded !== undefined, 'the upgrade to be taken');
    await timeoutsHavePassed(url);
    const echoed = new Promise((resolve) => client.socket.once('data', resolve));
    client.socket.write('still here');
    assert.equal(String(await echoed), 'still here');
  });
});
