// What request bodies may hold on the sandbox server: every body it reads (create, exec, file read
// and write) draws on one byte budget, so slow or large bodies on many connections cannot hold more
// memory than `maxBodyMemoryBytes`, and a body must arrive within `bodyTimeoutMs`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError, InputError } from '../../core/index.ts';
import { createRemoteSandbox, remoteProtocol as P, type FetchLike } from '../../sandbox/remote/index.ts';
import { answerOnClose, closedAfterTests } from '../../../test/support/raw-sockets.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { startSandboxServer, type SandboxServer, type SandboxServerOptions } from './index.ts';

// A failing test should fail, not wait out a body that never comes.
const GUARD = { timeout: 20_000 };
const MiB = 1024 * 1024;

const opened = closedAfterTests<SandboxServer>();

async function serve(options: SandboxServerOptions): Promise<SandboxServer> {
  return opened.started(await startSandboxServer({ port: 0, backend: 'virtual', ...options }));
}

const protocolHeaders = { 'content-type': 'application/json', [P.PROTOCOL_HEADER]: String(P.PROTOCOL_VERSION) };

/** A sandbox made over plain HTTP (no client heartbeats to share the budget with the test's bodies). */
async function sandboxOn(server: SandboxServer): Promise<string> {
  const response = await fetch(`${server.url}/v1/sandboxes`, { method: 'POST', headers: protocolHeaders, body: '{}' });
  return P.CreateResponse.parse(await response.json()).id;
}

/** An exec request head; the server is asked to close the connection after its answer, so tests wait on the close. */
function execHead(server: SandboxServer, id: string, framing: string): string {
  return `POST /v1/sandboxes/${id}/exec HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Type: application/json\r\n${P.PROTOCOL_HEADER}: ${P.PROTOCOL_VERSION}\r\nConnection: close\r\n${framing}\r\n\r\n`;
}

const sized = (bytes: number) => `Content-Length: ${bytes}`;
const CHUNKED = 'Transfer-Encoding: chunked';

/** An exec of `command` as JSON padded with spaces to exactly `bytes` bytes. */
function execBody(command: string, bytes: number): string {
  const text = JSON.stringify({ command, timeoutMs: 10_000 });
  return text + ' '.repeat(bytes - text.length);
}


describe('sandbox server request-body memory', () => {
  it('refuses a body that would pass the budget before reading it, with a retryable capacity error, and serves one again once a body ahead is done', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const id = await sandboxOn(server);
    const first = await opened.open(server.url);
    const firstBody = execBody('echo first', 600);
    first.socket.write(execHead(server, id, sized(600)) + firstBody.slice(0, 10));
    await waitFor(() => server.stats().bodyBytes === 600, 'the first body to take its declared 600 bytes');
    const second = await opened.open(server.url);
    second.socket.write(execHead(server, id, sized(400)) + execBody('echo second', 400).slice(0, 10));
    await waitFor(() => server.stats().bodyBytes === 1000, 'the second body to take the rest');

    // Heads alone: each answer comes without a byte of its body sent.
    const declared = await opened.open(server.url);
    declared.socket.write(execHead(server, id, sized(100)));
    const refused = await answerOnClose(declared);
    assert.match(refused.status, /^HTTP\/1\.1 503 /);
    assert.match(refused.head, /^retry-after: 1$/im);
    assert.match(refused.head, /^connection: close$/im);
    assert.deepEqual(refused.body, {
      error: { code: 'capacity', message: 'server busy: request bodies and replies being handled hold 1000 of the 1000 bytes allowed at once (--max-body-memory), and this one declares 100 bytes; retry later' },
    });
    const chunked = await opened.open(server.url);
    chunked.socket.write(execHead(server, id, CHUNKED));
    const none = await answerOnClose(chunked);
    assert.match(none.status, /^HTTP\/1\.1 503 /);
    assert.match((none.body as P.ErrorBody).error.message, /and none is left for this one/);
    assert.equal(server.stats().bodyBytes, 1000);

    // A client gone mid-body gives its bytes back, leaving room for the first command's reply
    // (its sandbox's output limit, a quarter of the budget when none was asked for).
    second.socket.destroy();
    await waitFor(() => server.stats().bodyBytes === 600, 'the abandoned body to give its bytes back');
    first.socket.write(firstBody.slice(10));
    const served = await answerOnClose(first);
    assert.match(served.status, /^HTTP\/1\.1 200 /);
    assert.equal(P.ExecResponse.parse(served.body).stdout, 'first\n');
    await waitFor(() => server.stats().bodyBytes === 0, 'the first body and reply to give their bytes back');
    const next = await fetch(`${server.url}/v1/sandboxes/${id}/exec`, { method: 'POST', headers: protocolHeaders, body: execBody('echo next', 200) });
    assert.equal(P.ExecResponse.parse(await next.json()).stdout, 'next\n');
    assert.equal(server.stats().bodyBytes, 0);
  });

  it('refuses at once, with too_large and no Retry-After, a body whose Content-Length alone passes the budget', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const id = await sandboxOn(server);
    const raw = await opened.open(server.url);
    raw.socket.write(execHead(server, id, sized(5000)));
    const refused = await answerOnClose(raw);
    assert.match(refused.status, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(refused.head, /retry-after/i);
    assert.deepEqual(refused.body, {
      error: { code: 'too_large', message: 'request body of 5000 bytes is more than the 1000 bytes the server holds for all request bodies at once (--max-body-memory)' },
    });
    assert.equal(server.stats().bodyBytes, 0);
  });

  it('answers body_timeout (408) to a body not arrived by its deadline, gives its bytes back and closes its connection, so the body refused meanwhile gets in', GUARD, async () => {
    // Long enough that the request refused meanwhile surely comes before it, on a busy machine too.
    const server = await serve({ maxBodyMemoryBytes: 1000, bodyTimeoutMs: 1000 });
    const id = await sandboxOn(server);
    const slow = await opened.open(server.url);
    slow.socket.write(execHead(server, id, sized(900)) + execBody('echo slow', 900).slice(0, 10));
    await waitFor(() => server.stats().bodyBytes === 900, 'the slow body to take its declared 900 bytes');
    const refusedMeanwhile = await opened.open(server.url);
    refusedMeanwhile.socket.write(execHead(server, id, sized(200)) + execBody('echo retried', 200));
    assert.match((await answerOnClose(refusedMeanwhile)).status, /^HTTP\/1\.1 503 /);

    const late = await answerOnClose(slow);
    assert.match(late.status, /^HTTP\/1\.1 408 /);
    assert.match(late.head, /^connection: close$/im);
    assert.deepEqual(late.body, { error: { code: 'body_timeout', message: 'the request body did not arrive within 1 s (--body-timeout): 10 of its 900 bytes had come' } });
    assert.equal(server.stats().bodyBytes, 0);
    const retried = await opened.open(server.url);
    retried.socket.write(execHead(server, id, sized(200)) + execBody('echo retried', 200));
    const served = await answerOnClose(retried);
    assert.match(served.status, /^HTTP\/1\.1 200 /);
    assert.equal(P.ExecResponse.parse(served.body).stdout, 'retried\n');
  });

  it('times only the upload: a command runs on past the body deadline, its body counted until it ends', GUARD, async () => {
    const server = await serve({ bodyTimeoutMs: 500 });
    const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000 });
    try {
      const command = 'while [ ! -f go ]; do sleep 0.01; done; echo done';
      const run = box.exec(command, { timeoutMs: 15_000 });
      await waitFor(() => server.stats().running === 1, 'the command to start');
      const held = server.stats().bodyBytes;
      // Its body, and room for its reply: the sandbox's output limit (the default 1 MB), taken before it ran.
      assert.equal(held, Buffer.byteLength(JSON.stringify({ command, timeoutMs: 15_000 })) + 1_000_000, 'the running exec still counts its body');
      // A body started since has been cut at its deadline: the exec has run on past its own.
      const slow = await opened.open(server.url);
      slow.socket.write(execHead(server, 'sbx_any', sized(100)) + '{');
      assert.match((await answerOnClose(slow)).status, /^HTTP\/1\.1 408 /);
      await box.writeFile('go', '');
      const result = await run;
      assert.deepEqual({ stdout: result.stdout, exitCode: result.exitCode }, { stdout: 'done\n', exitCode: 0 });
      await waitFor(() => server.stats().bodyBytes === 0, 'the finished exec to give its bytes back');
    } finally {
      await box.close();
    }
  });

  it('turns a busy refusal into a retryable infrastructure error on the client, never a command result, and serves once there is room', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    // Short deadlines: the client sends a refused request again only while its deadline allows.
    const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000, requestTimeoutMs: 1500, requestSlackMs: 0 });
    try {
      const holder = await opened.open(server.url);
      holder.socket.write(execHead(server, 'sbx_any', sized(1000)) + '{');
      await waitFor(() => server.stats().bodyBytes === 1000, 'the held body to take the whole budget');
      const busy = (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.retryable && e.kind === 'unavailable' && e.detail?.code === 'capacity' && /server busy: .*\(--max-body-memory\)/.test(e.message);
      await assert.rejects(box.exec('echo never', { timeoutMs: 1500 }), busy);
      await assert.rejects(box.writeFile('never.txt', 'x'), busy);
      holder.socket.destroy();
      await waitFor(() => server.stats().bodyBytes === 0, 'the held body to give its bytes back');
      assert.equal((await box.exec('echo served', { timeoutMs: 5000 })).stdout, 'served\n');
      assert.equal(await box.readFile('never.txt'), null, 'the refused write wrote nothing');
    } finally {
      await box.close();
    }
  });

  it('has the client send a request refused as busy again after its Retry-After, so a short squeeze costs no rollout', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    let execsSent = 0;
    const counting: FetchLike = (input, init) => {
      if (input.endsWith('/exec')) execsSent++;
      return fetch(input, init);
    };
    const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000, fetch: counting });
    try {
      const holder = await opened.open(server.url);
      holder.socket.write(execHead(server, 'sbx_any', sized(1000)) + '{');
      await waitFor(() => server.stats().bodyBytes === 1000, 'the held body to take the whole budget');
      const result = box.exec('echo through', { timeoutMs: 10_000 });
      await waitFor(() => execsSent >= 2, 'the exec refused once and sent again');
      holder.socket.destroy();
      const done = await result;
      assert.equal(done.stdout, 'through\n');
      assert.ok(execsSent >= 2, `${execsSent} sends: one exec, refused then sent again`);
    } finally {
      await box.close();
    }
  });

  it('turns a body that did not arrive in time into a retryable timeout on the client', GUARD, async () => {
    const server = await serve({ bodyTimeoutMs: 300 });
    // A link that stalls: the exec's body starts and never ends.
    const stalling: FetchLike = (url, init) => {
      if (!url.endsWith('/exec')) return fetch(url, init);
      const body = new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"command":')) });
      return fetch(url, { ...init, body, duplex: 'half' } as RequestInit);
    };
    const box = await createRemoteSandbox({ url: server.url, fetch: stalling, heartbeatMs: 3_600_000 });
    try {
      await assert.rejects(
        box.exec('echo never', { timeoutMs: 5000 }),
        (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.retryable && e.kind === 'timeout' && e.detail?.code === 'body_timeout' && /did not arrive within 0\.3 s \(--body-timeout\)/.test(e.message),
      );
      assert.equal(server.stats().bodyBytes, 0);
    } finally {
      await box.close();
    }
  });

  it('holds 256 MiB of bodies for 60 s each and reads up to 64 MiB by default, and refuses a budget, deadline or read limit out of range naming the option', GUARD, async () => {
    const server = await serve({});
    assert.deepEqual([server.stats().maxBodyMemoryBytes, server.stats().bodyTimeoutMs, server.stats().maxReadBytes], [256 * MiB, 60_000, 64 * MiB]);
    for (const bad of [0, 1.5, 256 * MiB + 1, Number.NaN]) {
      await assert.rejects(
        startSandboxServer({ port: 0, backend: 'virtual', maxReadBytes: bad }),
        (e: unknown) => e instanceof InputError && e.where === 'maxReadBytes' && /a whole number of bytes from 1 to 268435456 \(256 MiB\)/.test(e.message),
        String(bad),
      );
    }
    const quick = await serve({ httpTimeouts: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 } });
    assert.equal(quick.stats().bodyTimeoutMs, 1000, 'the default gives way to a shorter request timeout');
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        startSandboxServer({ port: 0, backend: 'virtual', maxBodyMemoryBytes: bad }),
        (e: unknown) => e instanceof InputError && e.where === 'maxBodyMemoryBytes' && /a whole number of bytes from 1 upwards/.test(e.message),
        String(bad),
      );
      await assert.rejects(
        startSandboxServer({ port: 0, backend: 'virtual', bodyTimeoutMs: bad }),
        (e: unknown) => e instanceof InputError && e.where === 'bodyTimeoutMs' && /a whole number of ms from 1 to 2147483647/.test(e.message),
        String(bad),
      );
    }
    await assert.rejects(
      startSandboxServer({ port: 0, backend: 'virtual', bodyTimeoutMs: 2000, httpTimeouts: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 } }),
      (e: unknown) => e instanceof InputError && e.where === 'bodyTimeoutMs' && /2000 ms is longer than the request timeout \(1000 ms\)/.test(e.message),
    );
  });
});

describe('sandbox server file-read memory, end to end', () => {
  it('turns a read over maxReadBytes into a non-retryable infrastructure error naming the server, the file, its size and the limit', GUARD, async () => {
    const server = await serve({ maxReadBytes: 1000 });
    const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000 });
    try {
      await box.writeFile('out/big.txt', 'x'.repeat(1001));
      await box.writeFile('out/fits.txt', 'y'.repeat(1000));
      await assert.rejects(box.readFile('out/big.txt'), (e: unknown) => {
        assert.ok(e instanceof InfraError, String(e));
        assert.deepEqual([e.source, e.retryable, e.detail?.code], ['sandbox', false, 'too_large']);
        assert.ok(e.message.startsWith(`sandbox server ${server.url}: POST /sandboxes/`), e.message);
        assert.match(e.message, /sandbox readFile: "out\/big\.txt" is 1001 bytes, over this server's limit of 1000 bytes a read \(--max-read-mb\)$/);
        return true;
      });
      assert.equal(await box.readFile('out/fits.txt'), 'y'.repeat(1000));
      assert.equal(server.stats().bodyBytes, 0);
    } finally {
      await box.close();
    }
  });

  it('has the client send a read refused busy again after its Retry-After, and serves it once the memory is free', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    let readsSent = 0;
    const counting: FetchLike = (input, init) => {
      if (input.endsWith('/files/read')) readsSent++;
      return fetch(input, init);
    };
    const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000, fetch: counting });
    try {
      await box.writeFile('notes.txt', 'n'.repeat(300));
      // 800 held by a body that never comes: the read's own body fits beside it, its 300-byte reply does not.
      const holder = await opened.open(server.url);
      holder.socket.write(execHead(server, 'sbx_any', sized(800)) + '{');
      await waitFor(() => server.stats().bodyBytes === 800, 'the held body to take 800 bytes');
      const content = box.readFile('notes.txt');
      await waitFor(() => readsSent >= 2, 'the read refused once and sent again');
      holder.socket.destroy();
      assert.equal(await content, 'n'.repeat(300));
      await waitFor(() => server.stats().bodyBytes === 0, 'every byte given back');
    } finally {
      await box.close();
    }
  });
});
