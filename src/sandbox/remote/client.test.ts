import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { InfraError, InputError, MAX_TIMER_MS } from '../../core/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { SandboxPathError } from '../paths.ts';
import { execReplyBytes, heartbeatInterval, readContentBytes, readReplyBytes } from './client.ts';
import { createRemoteSandbox, probeRemoteSandbox, remoteServerFromEnv, type FetchLike } from './index.ts';

const created = { id: 'sbx_test', backend: 'bwrap', workdir: '/work', lease: { ttlMs: 60_000, expiresAt: 1 } };

const listen = (server: Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server: Server) => (server.address() as AddressInfo).port;

/** A server that creates fine (its create reply extended by `extra`) and then answers every other request with `reply`. */
function fakeServer(reply: () => Response, extra: Record<string, unknown> = {}): { fetch: FetchLike; seen: { url: string; headers: Headers }[] } {
  const seen: { url: string; headers: Headers }[] = [];
  return {
    seen,
    fetch: (url, init) => {
      seen.push({ url, headers: new Headers(init.headers) });
      return Promise.resolve(url.endsWith('/v1/sandboxes') ? Response.json({ ...created, ...extra }, { status: 201 }) : reply());
    },
  };
}

/** A reply of `total` spaces (a server going on and on), counting in `sent` what was pulled from it; `headers` may lie about its length. */
function endlessReply(sent: { bytes: number }, total = 64 * 1024 ** 2, init: ResponseInit = {}): Response {
  return new Response(
    new ReadableStream({
      pull: (controller) => {
        if (sent.bytes >= total) return controller.close();
        sent.bytes += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(32));
      },
    }),
    init,
  );
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

  it('stops reading an exec reply past the most its output cap allows, however long the server goes on', async () => {
    let sent = 0;
    // 64 MiB stands for a reply without end: a server that kept streaming used to fill our memory
    // for as long as the request's timeout allowed.
    const endless = () =>
      new Response(
        new ReadableStream({
          pull: (controller) => {
            if (sent >= 64 * 1024 ** 2) return controller.close();
            sent += 64 * 1024;
            controller.enqueue(new Uint8Array(64 * 1024).fill(32));
          },
        }),
      );
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', limits: { maxOutputBytes: 1000 }, fetch: fakeServer(endless).fetch, heartbeatMs: 3_600_000 });
    await assert.rejects(box.exec('true', { timeoutMs: 60_000 }), (e: unknown) => e instanceof InfraError && e.kind === 'malformed_response' && !e.retryable && /reply is over 71536 bytes/.test(e.message));
    assert.ok(sent < 1024 ** 2, `read ${sent} bytes`);
    assert.equal(execReplyBytes(1000), 71_536);
  });

  it('takes the largest exec reply its output cap allows: every byte of output written as \\u00XX', async () => {
    const output = '\u0001'.repeat(1000);
    const reply = () => Response.json({ exitCode: 0, stdout: output, stderr: '', timedOut: false, truncated: false, durationMs: 1 });
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', limits: { maxOutputBytes: 1000 }, fetch: fakeServer(reply).fetch, heartbeatMs: 3_600_000 });
    assert.equal((await box.exec('true', { timeoutMs: 1000 })).stdout, output);
  });

  it('refuses a server naming an id that would change the request path, or speaking another protocol', async () => {
    const sneaky: FetchLike = () => Promise.resolve(Response.json({ ...created, id: 'sbx_x/../../health' }, { status: 201 }));
    await assert.rejects(createRemoteSandbox({ url: 'http://sandbox.test', fetch: sneaky }), (e: unknown) => e instanceof InfraError && e.kind === 'malformed_response' && /unexpected reply \(id: /.test(e.message));
    const newer: FetchLike = () => Promise.resolve(Response.json({ protocol: 2, backend: 'bwrap', sandboxes: 0, maxSandboxes: 4 }));
    await assert.rejects(probeRemoteSandbox({ url: 'http://sandbox.test' }, { fetch: newer }), (e: unknown) => e instanceof InfraError && e.kind === 'malformed_response' && /protocol/.test(e.message));
  });

  it('says a 401 is the server refusing the token, missing or wrong, and names the variable that holds it', async () => {
    const refusing: FetchLike = () => Promise.resolve(Response.json({ error: { code: 'unauthorized', message: 'a valid bearer token is required' } }, { status: 401, headers: { 'www-authenticate': 'Bearer' } }));
    // Before a run: the server answered, so the setting is what to fix, not the server's reachability.
    await assert.rejects(probeRemoteSandbox({ url: 'http://sandbox.test' }, { fetch: refusing }), (e: unknown) => {
      assert.ok(e instanceof InputError && e.where === 'GAUNTLET_SANDBOX_TOKEN', String(e));
      assert.match(e.message, /GET \/health: the server refused the request: its bearer token is missing \(HTTP 401: a valid bearer token is required\); set GAUNTLET_SANDBOX_TOKEN to the token the server was started with/);
      return true;
    });
    await assert.rejects(probeRemoteSandbox({ url: 'http://sandbox.test', token: 'wrong-token' }, { fetch: refusing }), (e: unknown) => {
      assert.ok(e instanceof InputError && e.where === 'GAUNTLET_SANDBOX_TOKEN', String(e));
      assert.match(e.message, /the server refused the bearer token sent \(HTTP 401: a valid bearer token is required\): GAUNTLET_SANDBOX_TOKEN is not the token the server was started with/);
      assert.doesNotMatch(e.message, /wrong-token/);
      return true;
    });
    // Mid-run it stays an infrastructure error, not retried, worded alike; an untyped 401 (a proxy's) too.
    const bare: FetchLike = () => Promise.resolve(new Response('Unauthorized', { status: 401 }));
    await assert.rejects(createRemoteSandbox({ url: 'http://sandbox.test', fetch: bare }), (e: unknown) => e instanceof InfraError && !e.retryable && /POST \/sandboxes: the server refused the request: its bearer token is missing \(HTTP 401: Unauthorized\)/.test(e.message));
  });

  it('follows no redirect: the files stay with the server it was given', async () => {
    const reached: string[] = [];
    const elsewhere = createServer((request, response) => {
      reached.push(`${request.method} ${request.url}`);
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(created));
    });
    const redirector = createServer((request, response) => response.writeHead(307, { location: `http://localhost:${port(elsewhere)}${request.url}` }).end());
    await Promise.all([listen(elsewhere), listen(redirector)]);
    try {
      await assert.rejects(
        createRemoteSandbox({ url: `http://127.0.0.1:${port(redirector)}`, files: { 'secret.txt': 'private' }, heartbeatMs: 3_600_000 }),
        (e: unknown) => e instanceof InputError && new RegExp(`redirect \\(HTTP 307\\) to "http://localhost:${port(elsewhere)}/v1/sandboxes"`).test(e.message) && /not followed/.test(e.message),
      );
      assert.deepEqual(reached, [], 'nothing reached the server it redirected to');
    } finally {
      redirector.close();
      elsewhere.close();
    }
  });

  it('heartbeats three times a lease, and a lease of months (or a server naming one) never overflows the interval', () => {
    assert.equal(heartbeatInterval(60_000), 20_000);
    assert.equal(heartbeatInterval(30), 50);
    // Node fires an overflowed interval every 1 ms: a heartbeat storm against the server.
    for (const ttlMs of [7_000_000_000, 1e15, Number.MAX_SAFE_INTEGER]) assert.equal(heartbeatInterval(ttlMs), MAX_TIMER_MS);
  });

  it('waits for a command whose timeout limit is at the top of its range, instead of failing it as timed out at once', async () => {
    const exec: FetchLike = async (url, init) => {
      if (url.endsWith('/v1/sandboxes')) return Response.json(created, { status: 201 });
      // An overflowed request timer fires after 1 ms, and fires before a 1 ms timer armed after it.
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (init.signal?.aborted) throw init.signal.reason;
      return Response.json({ exitCode: 0, stdout: 'ran\n', stderr: '', timedOut: false, truncated: false, durationMs: 1 });
    };
    // The limit's largest value plus the 30 s allowed for the network used to be past what a timer holds.
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', limits: { timeoutMs: MAX_TIMER_MS }, fetch: exec, heartbeatMs: 3_600_000 });
    assert.equal((await box.exec('true', { timeoutMs: 0 })).stdout, 'ran\n');
    assert.equal((await box.exec('true', { timeoutMs: MAX_TIMER_MS })).stdout, 'ran\n');
  });

  it('refuses a token no HTTP header can carry as a setting to fix, without quoting it and without sending anything', async () => {
    for (const token of ['SECRET-sbx\nline-two', 'SECRET-sbx\u0000', 'SECRET-sbx\u20ac']) {
      const server = fakeServer(() => Response.json({}));
      await assert.rejects(createRemoteSandbox({ url: 'http://sandbox.test', token, fetch: server.fetch, heartbeatMs: 3_600_000 }), (e: unknown) => {
        assert.ok(e instanceof InputError, `${JSON.stringify(token)}: ${String(e)}`);
        assert.match(e.message, /no HTTP header can carry/);
        assert.equal(e.message.includes('SECRET'), false, e.message);
        return true;
      });
      assert.deepEqual(server.seen, [], `${JSON.stringify(token)}: nothing sent`);
      assert.throws(() => remoteServerFromEnv({ GAUNTLET_SANDBOX_URL: 'http://sandbox.test', GAUNTLET_SANDBOX_TOKEN: token }), (e: unknown) => e instanceof InputError && e.where === 'GAUNTLET_SANDBOX_TOKEN' && !e.message.includes('SECRET'));
    }
  });

  it('keeps a failed heartbeat out of the path errors the agent reads, and says it in infrastructure errors', async () => {
    let heartbeats = 0;
    const server: FetchLike = (url) => {
      if (url.endsWith('/v1/sandboxes')) return Promise.resolve(Response.json(created, { status: 201 }));
      if (url.endsWith('/heartbeat')) {
        heartbeats++;
        return Promise.reject(new TypeError('fetch failed'));
      }
      if (url.endsWith('/files/read')) return Promise.resolve(Response.json({ error: { code: 'sandbox_path', message: 'sandbox readFile: path "../x" is outside the work dir /work' } }, { status: 400 }));
      return Promise.resolve(Response.json({ error: { code: 'capacity', message: 'busy' } }, { status: 503 }));
    };
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: server, heartbeatMs: 50 });
    try {
      await waitFor(() => heartbeats >= 1, 'a heartbeat to fail');
      await assert.rejects(box.readFile('../x'), (e: unknown) => e instanceof SandboxPathError && e.message === 'sandbox readFile: path "../x" is outside the work dir /work');
      await assert.rejects(box.listFiles(), (e: unknown) => e instanceof InfraError && /busy \(last heartbeat failed: .*fetch failed\)/.test(e.message));
    } finally {
      await box.close().catch(() => undefined);
    }
  });

  it('gives a command sent while another runs the time it waits behind it, as a persistent sandbox runs one at a time', async () => {
    let finishFirst: () => void = () => undefined;
    const firstDone = new Promise<void>((resolve) => (finishFirst = resolve));
    const queued: FetchLike = async (url, init) => {
      if (url.endsWith('/v1/sandboxes')) return Response.json(created, { status: 201 });
      const { command } = JSON.parse(String(init.body)) as { command: string };
      if (command === 'first') await firstDone;
      else {
        // On the server the second waits for the first. Its request, given only its own 1 ms plus
        // 1 ms of slack, used to time out first: that timer fires before this later, longer one.
        await new Promise((resolve) => setTimeout(resolve, 5));
        finishFirst();
        if (init.signal?.aborted) throw init.signal.reason;
      }
      return Response.json({ exitCode: 0, stdout: `${command}\n`, stderr: '', timedOut: false, truncated: false, durationMs: 1 });
    };
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: queued, requestSlackMs: 1, heartbeatMs: 3_600_000 });
    const first = box.exec('first', { timeoutMs: 60_000 });
    const second = box.exec('second', { timeoutMs: 1 });
    assert.deepEqual([(await first).stdout, (await second).stdout], ['first\n', 'second\n']);
  });

  it('stops reading a file read past the largest file the server says it sends, whatever its Content-Length claims', async () => {
    for (const headers of [{}, { 'content-length': '10' }] as Record<string, string>[]) {
      const sent = { bytes: 0 };
      const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: fakeServer(() => endlessReply(sent, 64 * 1024 ** 2, { headers }), { maxReadBytes: 3000 }).fetch, heartbeatMs: 3_600_000 });
      await assert.rejects(box.readFile('big.txt'), (e: unknown) => {
        assert.ok(e instanceof InfraError && e.source === 'sandbox' && e.kind === 'malformed_response' && !e.retryable, String(e));
        assert.match(e.message, /^sandbox server http:\/\/sandbox\.test: POST \/sandboxes\/sbx_test\/files\/read: the reply is over 69536 bytes, more than any reply to this request holds/);
        return true;
      });
      assert.ok(sent.bytes < 1024 ** 2, `${JSON.stringify(headers)}: read ${sent.bytes} bytes`);
    }
    assert.equal(readReplyBytes(3000), 4000 + 64 * 1024);
    // The largest file it says it sends still comes through.
    const content = 'é'.repeat(1500);
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: fakeServer(() => Response.json({ content: Buffer.from(content).toString('base64') }), { maxReadBytes: 3000 }).fetch, heartbeatMs: 3_600_000 });
    assert.equal(await box.readFile('fits.txt'), content);
  });

  it('bounds a read from a server that does not say its limit by the sandbox\'s disk, three bytes a byte', () => {
    const MiB = 1024 ** 2;
    assert.equal(readContentBytes(64 * MiB, undefined), 192 * MiB, 'a default disk: every byte not UTF-8 comes back as U+FFFD');
    assert.equal(readContentBytes(MiB, undefined), 192 * MiB, 'a file written from outside may be a whole request body, whatever the disk');
    assert.equal(readContentBytes(64 * MiB, 1000), 1000, 'what the server says, when it says less');
    assert.equal(readContentBytes(MiB, 1024 * MiB), 192 * MiB, 'never more than the disk allows, whatever the server says');
    assert.equal(readReplyBytes(readContentBytes(1024 ** 4, undefined)), 2 ** 29 - 24, 'at most the longest string V8 makes');
  });

  it('stops reading a create reply, a few fields, past 64 KiB', async () => {
    const sent = { bytes: 0 };
    const endless: FetchLike = () => Promise.resolve(endlessReply(sent, 64 * 1024 ** 2, { status: 201 }));
    await assert.rejects(
      createRemoteSandbox({ url: 'http://sandbox.test', fetch: endless }),
      (e: unknown) => e instanceof InfraError && e.kind === 'malformed_response' && /^sandbox server http:\/\/sandbox\.test: POST \/sandboxes: the reply is over 65536 bytes/.test(e.message),
    );
    assert.ok(sent.bytes < 1024 ** 2, `read ${sent.bytes} bytes`);
  });

  it('reads an error reply as long as one quoting the request, so a long path stays the agent\'s path error', async () => {
    const path = `${'deep/'.repeat(40_000)}x.txt`;
    // The message quotes the path twice: 400 KB, past the 64 KiB a write's reply may otherwise hold.
    const message = `sandbox writeFile: ${JSON.stringify(path)}: ${path} is not a directory`;
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: fakeServer(() => Response.json({ error: { code: 'sandbox_path', message } }, { status: 400 })).fetch, heartbeatMs: 3_600_000 });
    await assert.rejects(box.writeFile(path, 'x'), (e: unknown) => e instanceof SandboxPathError && e.message === message);
    // An error reply without end is still cut, and retried or not by its status.
    const sent = { bytes: 0 };
    const endless = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: fakeServer(() => endlessReply(sent, 64 * 1024 ** 2, { status: 502 })).fetch, heartbeatMs: 3_600_000 });
    await assert.rejects(endless.writeFile('a.txt', 'x'), (e: unknown) => e instanceof InfraError && e.kind === 'http' && e.retryable && /the reply \(HTTP 502\) is over \d+ bytes/.test(e.message));
    assert.ok(sent.bytes < 1024 ** 2, `read ${sent.bytes} bytes`);
  });
});
