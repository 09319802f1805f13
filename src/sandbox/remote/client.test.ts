import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError, InputError, MAX_TIMER_MS } from '../../core/index.ts';
import { heartbeatInterval } from './client.ts';
import { createRemoteSandbox, type FetchLike } from './index.ts';

const created = { id: 'sbx_test', backend: 'bwrap', workdir: '/work', lease: { ttlMs: 60_000, expiresAt: 1 } };

/** A server that creates fine and then answers every other request with `reply`. */
function fakeServer(reply: () => Response): { fetch: FetchLike; seen: { url: string; headers: Headers }[] } {
  const seen: { url: string; headers: Headers }[] = [];
  return {
    seen,
    fetch: (url, init) => {
      seen.push({ url, headers: new Headers(init.headers) });
      return Promise.resolve(url.endsWith('/v1/sandboxes') ? Response.json(created, { status: 201 }) : reply());
    },
  };
}

describe('remote sandbox client', () => {
  it('sends the protocol version and the token on every request', async () => {
    const server = fakeServer(() => Response.json({ exitCode: 0, stdout: 'ok\n', stderr: '', timedOut: false, truncated: false, durationMs: 1 }));
    const box = await createRemoteSandbox({ url: 'http://sandbox.test:7070/', token: 'tok', fetch: server.fetch, heartbeatMs: 3_600_000 });
    assert.equal((await box.exec('echo ok', { timeoutMs: 1000 })).stdout, 'ok\n');
    assert.deepEqual(server.seen.map((s) => s.url), ['http://sandbox.test:7070/v1/sandboxes', 'http://sandbox.test:7070/v1/sandboxes/sbx_test/exec']);
    for (const { headers } of server.seen) {
      assert.equal(headers.get('gauntlet-sandbox-protocol'), '1');
      assert.equal(headers.get('authorization'), 'Bearer tok');
    }
  });

  it('treats a reply that breaks the protocol as a malformed response, not a result', async () => {
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: fakeServer(() => Response.json({ exitCode: 'zero' })).fetch, heartbeatMs: 3_600_000 });
    await assert.rejects(box.exec('true', { timeoutMs: 1000 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.kind === 'malformed_response' && /exitCode/.test(e.message));
  });

  it('makes an untyped 502 from a proxy a retryable HTTP failure', async () => {
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: fakeServer(() => new Response('bad gateway', { status: 502 })).fetch, heartbeatMs: 3_600_000 });
    await assert.rejects(box.listFiles(), (e: unknown) => e instanceof InfraError && e.kind === 'http' && e.retryable && /HTTP 502/.test(e.message));
  });

  it('returns exit 130 when the caller aborts a command, as a local sandbox does', async () => {
    const hang: FetchLike = (url, init) =>
      url.endsWith('/v1/sandboxes')
        ? Promise.resolve(Response.json(created, { status: 201 }))
        : new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: hang, heartbeatMs: 3_600_000 });
    const controller = new AbortController();
    const running = box.exec('sleep 100', { timeoutMs: 200_000, signal: controller.signal });
    controller.abort();
    assert.equal((await running).exitCode, 130);
  });

  it('refuses a URL that is not http(s) before sending anything', async () => {
    await assert.rejects(createRemoteSandbox({ url: 'unix:/run/x.sock' }), /not http/);
  });

  it('refuses a URL with a password in it, without repeating the password', async () => {
    const secret = 'sbx-SECRET-0123456789';
    for (const url of [`http://user:${secret}@sandbox.test:7070`, `http://user:12/${secret}@sandbox.test:7070`, `http://user:x/${secret}@sandbox.test:7070`]) {
      const server = fakeServer(() => Response.json({}));
      await assert.rejects(createRemoteSandbox({ url, fetch: server.fetch, heartbeatMs: 3_600_000 }), (e: unknown) => {
        assert.ok(e instanceof InputError, `${url}: ${String(e)}`);
        assert.equal(e.message.includes(secret.slice(0, 8)), false, `${url}: ${e.message}`);
        assert.match(e.message, /user info|not a URL/);
        return true;
      });
      assert.deepEqual(server.seen, [], `${url}: nothing sent`);
    }
  });

  it('leaves no part of its token in an error quoting a reply cut short', async () => {
    const token = 'sbx-token-SECRET-0123456789';
    // An untyped error body is quoted to 200 characters: the token starts where all but its tail fits.
    const body = `${'x'.repeat(200 - 'Bearer '.length - token.length + 3)}Bearer ${token}`;
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', token, fetch: fakeServer(() => new Response(body, { status: 500 })).fetch, heartbeatMs: 3_600_000 });
    await assert.rejects(box.listFiles(), (e: unknown) => e instanceof InfraError && /Bearer \*\*\*/.test(e.message) && !e.message.includes(token.slice(0, 8)));
  });

  it('heartbeats three times a lease, and a lease of months (or a server naming one) never overflows the interval', () => {
    assert.equal(heartbeatInterval(60_000), 20_000);
    assert.equal(heartbeatInterval(30), 50);
    // Node fires an overflowed interval every 1 ms: a heartbeat storm against the server.
    for (const ttlMs of [7_000_000_000, 1e15, Number.MAX_SAFE_INTEGER]) assert.equal(heartbeatInterval(ttlMs), MAX_TIMER_MS);
  });
});
