// What request bodies may hold on the OpenEnv server: every body it buffers (POST /mcp, /reset,
// /step) draws on one byte budget, so slow or large bodies on many connections cannot hold more
// memory than `maxBodyMemoryBytes`, whatever `maxSessions` says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { instantiate, type EnvironmentDefinition } from '../../envs/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import { answerOnClose, closedAfterTests } from '../../../test/support/raw-sockets.ts';
import { startOpenEnvServer, type OpenEnvServer } from './server.ts';
import { probeEnv, probeWaits } from './test-env.ts';

// A failing test should fail, not wait out a body that never comes.
const GUARD = { timeout: 20_000 };

const opened = closedAfterTests<OpenEnvServer>();

async function serve(options: Partial<Parameters<typeof startOpenEnvServer>[0]>): Promise<OpenEnvServer> {
  return opened.started(await startOpenEnvServer({ env: 'mail', port: 0, ...options }));
}

/** A request head; the server is asked to close the connection after its answer, so tests wait on the close. */
function postHead(server: OpenEnvServer, path: string, framing: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Type: application/json\r\nConnection: close\r\n${framing}\r\n\r\n`;
}

const sized = (bytes: number) => `Content-Length: ${bytes}`;
const CHUNKED = 'Transfer-Encoding: chunked';
const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
const LAST_CHUNK = '0\r\n\r\n';

/** A session-less tools/list of exactly `bytes` bytes (JSON allows the trailing spaces). */
function toolsList(bytes: number): string {
  const call = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} });
  return call + ' '.repeat(bytes - call.length);
}

/** `message` as JSON padded with spaces to exactly `bytes` bytes. */
function padded(message: unknown, bytes: number): string {
  const text = JSON.stringify(message);
  return text + ' '.repeat(bytes - text.length);
}


describe('OpenEnv server request-body memory', () => {
  it('refuses a body that would pass the budget before reading it, and serves one again once a body ahead is done', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const first = await opened.open(server.url);
    const firstBody = toolsList(600);
    first.socket.write(postHead(server, '/mcp', sized(600)) + firstBody.slice(0, 10));
    await waitFor(() => server.stats().bodyBytes === 600, 'the first body to take its declared 600 bytes');
    const second = await opened.open(server.url);
    second.socket.write(postHead(server, '/mcp', sized(400)) + toolsList(400).slice(0, 10));
    await waitFor(() => server.stats().bodyBytes === 1000, 'the second body to take the rest');

    // Heads alone: each answer comes without a byte of its body sent.
    const declared = await opened.open(server.url);
    declared.socket.write(postHead(server, '/mcp', sized(100)));
    const refused = await answerOnClose(declared);
    assert.match(refused.status, /^HTTP\/1\.1 503 /);
    assert.match(refused.head, /^retry-after: 1$/im);
    assert.match(refused.head, /^connection: close$/im);
    assert.deepEqual(refused.body, {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message: 'server busy: request bodies, WebSocket messages and replies being handled hold 1000 of the 1000 bytes allowed at once (--max-body-memory), and this one declares 100 bytes; retry later',
        data: { body_memory_bytes: 1000, max_body_memory_bytes: 1000 },
      },
    });
    const chunked = await opened.open(server.url);
    chunked.socket.write(postHead(server, '/mcp', CHUNKED));
    const none = await answerOnClose(chunked);
    assert.match(none.status, /^HTTP\/1\.1 503 /);
    assert.match((none.body.error as { message: string }).message, /and none is left for this one/);
    // /reset draws on the same budget and answers in its own shape.
    const reset = await opened.open(server.url);
    reset.socket.write(postHead(server, '/reset', sized(2)));
    const resetRefused = await answerOnClose(reset);
    assert.match(resetRefused.status, /^HTTP\/1\.1 503 /);
    assert.match(resetRefused.head, /^retry-after: 1$/im);
    assert.match(resetRefused.body.detail as string, /--max-body-memory/);
    assert.equal(resetRefused.body.max_body_memory_bytes, 1000);
    assert.equal(server.stats().bodyBytes, 1000);

    first.socket.write(firstBody.slice(10));
    const served = await answerOnClose(first);
    assert.match(served.status, /^HTTP\/1\.1 200 /);
    assert.ok(Array.isArray((served.body.result as { tools: unknown }).tools));
    await waitFor(() => server.stats().bodyBytes === 400, 'the first body to give its bytes back');
    const next = await new OpenEnvHttpClient(server.url).rpc('tools/list');
    assert.equal(next.status, 200);
    assert.ok(Array.isArray((next.body as { result: { tools: unknown } }).result.tools));

    // A client gone mid-body gives its bytes back too.
    second.socket.destroy();
    await waitFor(() => server.stats().bodyBytes === 0, 'the abandoned body to give its bytes back');
  });

  it('takes a chunked body\'s bytes as they arrive and refuses the chunk that would pass the budget', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const first = await opened.open(server.url);
    first.socket.write(postHead(server, '/mcp', CHUNKED) + chunk(' '.repeat(600)));
    await waitFor(() => server.stats().bodyBytes === 600, 'the first chunk to be taken');
    const second = await opened.open(server.url);
    second.socket.write(postHead(server, '/mcp', CHUNKED) + chunk(' '.repeat(300)));
    await waitFor(() => server.stats().bodyBytes === 900, 'the second body\'s first chunk to be taken');

    second.socket.write(chunk(' '.repeat(200)));
    const refused = await answerOnClose(second);
    assert.match(refused.status, /^HTTP\/1\.1 503 /);
    assert.match(refused.head, /^retry-after: 1$/im);
    assert.match((refused.body.error as { message: string }).message, /hold \d+ of the 1000 bytes allowed at once \(--max-body-memory\), and this one would pass it/);
    await waitFor(() => server.stats().bodyBytes === 600, 'the refused body to give its bytes back');

    first.socket.write(chunk(toolsList(100)) + LAST_CHUNK);
    const served = await answerOnClose(first);
    assert.match(served.status, /^HTTP\/1\.1 200 /);
    assert.ok(Array.isArray((served.body.result as { tools: unknown }).tools));
    await waitFor(() => server.stats().bodyBytes === 0, 'every body to give its bytes back');
  });

  it('serves a POST with no body (neither Content-Length nor chunks) while the budget is full, since it needs none of it', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 100 });
    const holder = await opened.open(server.url);
    holder.socket.write(postHead(server, '/mcp', sized(100)) + '{');
    await waitFor(() => server.stats().bodyBytes === 100, 'the held body to take the whole budget');
    const bare = await opened.open(server.url);
    bare.socket.write(`POST /reset HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nConnection: close\r\n\r\n`);
    const reset = await answerOnClose(bare);
    assert.match(reset.status, /^HTTP\/1\.1 200 /);
    assert.equal((reset.body.observation as { kind: string }).kind, 'reset');
  });

  it('refuses at once, with 413 and no Retry-After, a body whose Content-Length alone passes the budget', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const mcp = await opened.open(server.url);
    mcp.socket.write(postHead(server, '/mcp', sized(5000)));
    const refused = await answerOnClose(mcp);
    assert.match(refused.status, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(refused.head, /retry-after/i);
    assert.deepEqual(refused.body, {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: 'request body of 5000 bytes is more than the 1000 bytes the server holds for all request bodies at once (--max-body-memory)',
        data: { body_bytes: 5000, max_body_memory_bytes: 1000 },
      },
    });
    const step = await opened.open(server.url);
    step.socket.write(postHead(server, '/step', sized(5000)));
    const stepRefused = await answerOnClose(step);
    assert.match(stepRefused.status, /^HTTP\/1\.1 413 /);
    assert.match(stepRefused.body.detail as string, /5000 bytes is more than the 1000 bytes .*\(--max-body-memory\)/);
    assert.equal(server.stats().bodyBytes, 0);
  });

  it('still refuses at once a body over the 16 MiB one request may send, whatever the budget', GUARD, async () => {
    const server = await serve({});
    const raw = await opened.open(server.url);
    raw.socket.write(postHead(server, '/mcp', sized(16 * 1024 * 1024 + 1)));
    const refused = await answerOnClose(raw);
    assert.match(refused.status, /^HTTP\/1\.1 413 /);
    assert.deepEqual(refused.body.error, { code: -32600, message: `request body over ${16 * 1024 * 1024} bytes`, data: { max_body_bytes: 16 * 1024 * 1024 } });
  });

  it('refuses a session-less MCP call on a full server without building an environment for it', GUARD, async () => {
    let built = 0;
    const server = await serve({
      maxSessions: 1,
      environmentFactory: (definition: EnvironmentDefinition) => {
        built++;
        return instantiate(definition);
      },
    });
    const episode = await OpenEnvSocket.connect(server.url);
    assert.equal(((await episode.reset({})) as { type: string }).type, 'observation');
    assert.equal(built, 1);
    const reply = await new OpenEnvHttpClient(server.url).rpc('tools/list');
    assert.deepEqual((reply.body as { error: unknown }).error, { code: -32000, message: 'server at capacity: 1 of 1 sessions in use', data: { active_sessions: 1, max_sessions: 1 } });
    assert.equal(built, 1);
    assert.equal(server.stats().bodyBytes, 0);
    await episode.close();
  });

  it('answers 408 to a body not arrived by its deadline, gives its bytes back and closes its connection, so the body refused meanwhile gets in', GUARD, async () => {
    // Long enough that the request refused meanwhile surely comes before it, on a busy machine too.
    const server = await serve({ maxBodyMemoryBytes: 1000, bodyTimeoutMs: 1000 });
    // A slow sender: 900 bytes declared, 10 sent, the rest never.
    const slow = await opened.open(server.url);
    slow.socket.write(postHead(server, '/mcp', sized(900)) + toolsList(900).slice(0, 10));
    await waitFor(() => server.stats().bodyBytes === 900, 'the slow body to take its declared 900 bytes');
    const refusedMeanwhile = await opened.open(server.url);
    refusedMeanwhile.socket.write(postHead(server, '/mcp', sized(200)) + toolsList(200));
    assert.match((await answerOnClose(refusedMeanwhile)).status, /^HTTP\/1\.1 503 /);

    const late = await answerOnClose(slow);
    assert.match(late.status, /^HTTP\/1\.1 408 /);
    assert.match(late.head, /^connection: close$/im);
    assert.deepEqual(late.body, {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: 'the request body did not arrive within 1 s (--body-timeout): 10 of its 900 bytes had come',
        data: { received_bytes: 10, body_bytes: 900, body_timeout_ms: 1000 },
      },
    });
    assert.equal(server.stats().bodyBytes, 0);
    const retried = await opened.open(server.url);
    retried.socket.write(postHead(server, '/mcp', sized(200)) + toolsList(200));
    const served = await answerOnClose(retried);
    assert.match(served.status, /^HTTP\/1\.1 200 /);
    assert.ok(Array.isArray((served.body.result as { tools: unknown }).tools));
  });

  it('gives back the session slot of a stateless request whose chunked body does not arrive in time', GUARD, async () => {
    const server = await serve({ maxSessions: 1, bodyTimeoutMs: 1000 });
    const slow = await opened.open(server.url);
    slow.socket.write(postHead(server, '/reset', CHUNKED) + chunk('{"seed"'));
    await waitFor(() => server.stats().bodyBytes === 7, 'the slow body\'s first chunk to be taken');
    const http = new OpenEnvHttpClient(server.url);
    assert.equal((await http.reset({})).status, 503, 'the slow request holds the only slot');

    const late = await answerOnClose(slow);
    assert.match(late.status, /^HTTP\/1\.1 408 /);
    assert.deepEqual(late.body, { detail: 'the request body did not arrive within 1 s (--body-timeout): 7 bytes of it had come', received_bytes: 7, body_timeout_ms: 1000 });
    assert.equal(server.stats().bodyBytes, 0);
    const reset = await http.reset({});
    assert.equal(reset.status, 200);
    assert.equal((reset.body as { observation: { kind: string } }).observation.kind, 'reset');
  });

  it('waits 30 s for a body by default (less under a shorter request timeout) and refuses a deadline that is not a whole number of ms within the request timeout', async () => {
    const server = await serve({});
    assert.equal(server.stats().bodyTimeoutMs, 30_000);
    const quick = await serve({ httpTimeouts: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 } });
    assert.equal(quick.stats().bodyTimeoutMs, 1000, 'the default gives way to a shorter request timeout');
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        startOpenEnvServer({ env: 'mail', port: 0, bodyTimeoutMs: bad }),
        (error: unknown) => error instanceof InputError && error.where === 'bodyTimeoutMs' && /a whole number of ms from 1 to 2147483647/.test(error.message),
        String(bad),
      );
    }
    await assert.rejects(
      startOpenEnvServer({ env: 'mail', port: 0, bodyTimeoutMs: 2000, httpTimeouts: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 } }),
      (error: unknown) => error instanceof InputError && error.where === 'bodyTimeoutMs' && /2000 ms is longer than the request timeout \(1000 ms\)/.test(error.message),
    );
  });

  it('counts a WebSocket message against the budget until its reply, answers one that does not fit without running it, and closes one larger than the budget', GUARD, async () => {
    const server = await serve({ env: probeEnv, maxBodyMemoryBytes: 1000 });
    const holder = await OpenEnvSocket.connect(server.url);
    await holder.reset({ task_id: 'probe/two' });
    holder.send(padded({ type: 'step', data: { type: 'call_tool', tool_name: 'wait', arguments: {} } }, 600));
    await waitFor(() => probeWaits.active === 1 && server.stats().bodyBytes === 600, 'the waiting call to hold its 600 bytes');

    // HTTP bodies see the message's bytes as taken.
    const http = await opened.open(server.url);
    http.socket.write(postHead(server, '/mcp', sized(500)) + toolsList(500));
    const refused = await answerOnClose(http);
    assert.match(refused.status, /^HTTP\/1\.1 503 /);
    assert.match((refused.body.error as { message: string }).message, /request bodies, WebSocket messages and replies being handled hold 600 of the 1000 bytes allowed at once/);

    // So do other sockets' messages: told, not run, and the socket stays open.
    const other = await OpenEnvSocket.connect(server.url);
    await other.reset({ task_id: 'probe/two' });
    const busy = (await other.request(padded({ type: 'step', data: { type: 'call_tool', tool_name: 'echo', arguments: { text: 'x' } } }, 500))) as { type: string; data: Record<string, unknown> };
    assert.deepEqual(busy, {
      type: 'error',
      data: {
        code: 'EXECUTION_ERROR',
        message: 'server busy: request bodies, WebSocket messages and replies being handled hold 600 of the 1000 bytes allowed at once (--max-body-memory), and this 500-byte message would pass it; it was not run, send it again later',
        failure: 'infra',
        source: 'gauntlet',
        retryable: true,
        body_memory_bytes: 600,
        max_body_memory_bytes: 1000,
      },
    });
    assert.equal(((await other.state()) as { data: { step_count: number } }).data.step_count, 0, 'the refused step did not run');
    const mcp = await OpenEnvSocket.connect(server.url, { path: '/mcp' });
    const rpcBusy = (await mcp.request(padded({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, 500))) as { error: { code: number; data: unknown } };
    assert.deepEqual([rpcBusy.error.code, rpcBusy.error.data], [-32000, { body_memory_bytes: 600, max_body_memory_bytes: 1000 }]);

    // One larger than the whole budget could never fit: it is over the largest message, refused as
    // its first frame arrives, and `ws` closes the socket as for any message over its limit.
    const big = await OpenEnvSocket.connect(server.url);
    const never = (await big.request(padded({ type: 'state' }, 1001))) as { data: Record<string, unknown> };
    assert.deepEqual(never.data, {
      code: 'SESSION_ERROR',
      message: "this message's frames declare 1001 bytes, more than the 1000 bytes one message may hold (16 MiB, or --max-body-memory when that is less); it was not run and the session is closed",
      body_bytes: 1001,
      max_message_bytes: 1000,
    });
    assert.equal((await big.closed).code, 1009);

    holder.terminate();
    await waitFor(() => probeWaits.active === 0 && server.stats().bodyBytes === 0, 'the ended call to give its bytes back');
    const served = (await other.request(padded({ type: 'step', data: { type: 'call_tool', tool_name: 'echo', arguments: { text: 'x' } } }, 500))) as { type: string };
    assert.equal(served.type, 'observation');
    await waitFor(() => server.stats().bodyBytes === 0, 'the served message to give its bytes back');
    await other.close();
    mcp.terminate();
  });

  it('holds 256 MiB of bodies by default and refuses a budget that is not a positive whole number of bytes', async () => {
    const server = await serve({});
    assert.equal(server.stats().maxBodyMemoryBytes, 256 * 1024 * 1024);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        startOpenEnvServer({ env: 'mail', port: 0, maxBodyMemoryBytes: bad }),
        (error: unknown) => error instanceof InputError && error.where === 'maxBodyMemoryBytes' && /a whole number of bytes from 1 upwards/.test(error.message),
        String(bad),
      );
    }
  });
});
