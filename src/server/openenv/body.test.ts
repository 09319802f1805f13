// What request bodies may hold on the OpenEnv server: every body it buffers (POST /mcp, /reset,
// /step) draws on one byte budget, so slow or large bodies on many connections cannot hold more
// memory than `maxBodyMemoryBytes`, whatever `maxSessions` says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { instantiate, type EnvironmentDefinition } from '../../envs/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import { closedAfterTests, type RawSocket } from '../../../test/support/raw-sockets.ts';
import { startOpenEnvServer, type OpenEnvServer } from './server.ts';

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

/** The answer once the server has closed the connection: status line, headers, JSON body. */
async function answer(raw: RawSocket): Promise<{ status: string; head: string; body: Record<string, unknown> }> {
  await raw.closed;
  const text = raw.received();
  const split = text.indexOf('\r\n\r\n');
  assert.ok(split > 0, `no answer came back: ${JSON.stringify(text)}`);
  const head = text.slice(0, split);
  return { status: head.split('\r\n')[0]!, head, body: JSON.parse(text.slice(split + 4)) as Record<string, unknown> };
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
    const refused = await answer(declared);
    assert.match(refused.status, /^HTTP\/1\.1 503 /);
    assert.match(refused.head, /^retry-after: 1$/im);
    assert.match(refused.head, /^connection: close$/im);
    assert.deepEqual(refused.body, {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message: 'server busy: request bodies being read hold 1000 of the 1000 bytes allowed at once (--max-body-memory), and this one declares 100 bytes; retry later',
        data: { body_memory_bytes: 1000, max_body_memory_bytes: 1000 },
      },
    });
    const chunked = await opened.open(server.url);
    chunked.socket.write(postHead(server, '/mcp', CHUNKED));
    const none = await answer(chunked);
    assert.match(none.status, /^HTTP\/1\.1 503 /);
    assert.match((none.body.error as { message: string }).message, /and none is left for this one/);
    // /reset draws on the same budget and answers in its own shape.
    const reset = await opened.open(server.url);
    reset.socket.write(postHead(server, '/reset', sized(2)));
    const resetRefused = await answer(reset);
    assert.match(resetRefused.status, /^HTTP\/1\.1 503 /);
    assert.match(resetRefused.head, /^retry-after: 1$/im);
    assert.match(resetRefused.body.detail as string, /--max-body-memory/);
    assert.equal(resetRefused.body.max_body_memory_bytes, 1000);
    assert.equal(server.stats().bodyBytes, 1000);

    first.socket.write(firstBody.slice(10));
    const served = await answer(first);
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
    const refused = await answer(second);
    assert.match(refused.status, /^HTTP\/1\.1 503 /);
    assert.match(refused.head, /^retry-after: 1$/im);
    assert.match((refused.body.error as { message: string }).message, /hold \d+ of the 1000 bytes allowed at once \(--max-body-memory\), and this one would pass it/);
    await waitFor(() => server.stats().bodyBytes === 600, 'the refused body to give its bytes back');

    first.socket.write(chunk(toolsList(100)) + LAST_CHUNK);
    const served = await answer(first);
    assert.match(served.status, /^HTTP\/1\.1 200 /);
    assert.ok(Array.isArray((served.body.result as { tools: unknown }).tools));
    await waitFor(() => server.stats().bodyBytes === 0, 'every body to give its bytes back');
  });

  it('refuses at once, with 413 and no Retry-After, a body whose Content-Length alone passes the budget', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const mcp = await opened.open(server.url);
    mcp.socket.write(postHead(server, '/mcp', sized(5000)));
    const refused = await answer(mcp);
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
    const stepRefused = await answer(step);
    assert.match(stepRefused.status, /^HTTP\/1\.1 413 /);
    assert.match(stepRefused.body.detail as string, /5000 bytes is more than the 1000 bytes .*\(--max-body-memory\)/);
    assert.equal(server.stats().bodyBytes, 0);
  });

  it('still refuses at once a body over the 16 MiB one request may send, whatever the budget', GUARD, async () => {
    const server = await serve({});
    const raw = await opened.open(server.url);
    raw.socket.write(postHead(server, '/mcp', sized(16 * 1024 * 1024 + 1)));
    const refused = await answer(raw);
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
