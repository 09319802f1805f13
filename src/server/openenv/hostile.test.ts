// The OpenEnv server against hostile or broken clients: keys that validation would drop, bytes
// that are not UTF-8, stateless requests past capacity, clients that go away mid-call or
// mid-verification, clients that never read, sessions reached into from another connection, and
// verifications given up on that must stop.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { Task } from '../../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, instantiate } from '../../envs/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import { openRaw, untilReceived } from '../../../test/support/raw-sockets.ts';
import { EpisodeFailure, OpenEnvEpisode, taskCatalog, VERIFY_GRACE_MS } from './episode.ts';
import { startOpenEnvServer } from './server.ts';
import { probeEnv, probeWaits } from './test-env.ts';

type Json = Record<string, unknown>;

/** The server's clock where a test moves it (ms). */
const clock = { now: 0 };
/** Verifications of the `stalls` check that have started and not yet seen their abort. */
const stalls = { active: 0 };
/** Calls of the `stuck` tool that have started and not been released (it ignores its abort). */
const stuck = { active: 0, release: () => {} };

function stallTask(id: string, maxTurns: number): Task {
  return Task.parse({
    id: `stall/${id}`,
    env: 'stall',
    instruction: 'Wait.',
    verifier: { checks: [{ check: 'stalls' }] },
    golden: { steps: [], answer: 'done' },
    tags: { domain: 'probe', difficulty: 'easy' },
    limits: { maxTurns, deadlineMs: 60_000 },
  });
}

const STALL_TASKS = { once: stallTask('once', 1), open: stallTask('open', 5) };

/** The probe environment plus a verifier that runs until its signal aborts, and a tool that moves the clock. */
const stallEnv = defineEnvironment({
  ...probeEnv,
  name: 'stall',
  tools: {
    ...probeEnv.tools,
    stuck: defineTool({
      description: 'Moves the clock on by ms, then ignores its abort until the test releases it.',
      input: z.object({ ms: z.number().int().min(0) }),
      run: ({ ms }) => {
        clock.now += ms;
        stuck.active++;
        return new Promise<string>((resolve) => {
          stuck.release = () => {
            stuck.active--;
            resolve('released');
          };
        });
      },
    }),
    advance: defineTool({
      description: "Moves the test's clock on by ms: a call that took that long.",
      input: z.object({ ms: z.number().int().min(0) }),
      run: ({ ms }) => {
        clock.now += ms;
        return 'advanced';
      },
    }),
  },
  checks: {
    ...probeEnv.checks,
    stalls: defineCheck({
      kind: 'outcome',
      description: 'works on (moving the clock 10 ms first) until its signal aborts',
      params: z.object({}),
      run: (_params, { signal }) => {
        clock.now += 10;
        stalls.active++;
        return new Promise((resolve) => {
          const done = () => {
            stalls.active--;
            resolve({ passed: false, detail: 'stopped by its signal' });
          };
          if (signal.aborted) done();
          else signal.addEventListener('abort', done, { once: true });
        });
      },
    }),
  },
  tasks: () => Object.values(STALL_TASKS),
});

const ECHO_PROTO = '{"type":"call_tool","tool_name":"echo","arguments":{"text":"kept","__proto__":{"text":"lost"}}}';

/** The probe environment (its tasks name it) with one tool more, `shout`: small requests, large replies. */
function loudEnvironment() {
  const shouts = { calls: 0 };
  const env = defineEnvironment({
    ...probeEnv,
    tools: {
      ...probeEnv.tools,
      shout: defineTool({
        description: 'Answers with kib KiB of text.',
        input: z.object({ kib: z.number().int().min(1) }),
        run: ({ kib }) => {
          shouts.calls++;
          return 'x'.repeat(kib * 1024);
        },
      }),
    },
  });
  return { env, shouts };
}

describe('OpenEnv server against hostile clients', () => {
  it('refuses a key named __proto__, naming where it is, on every transport instead of dropping it', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      const ws = (await socket.request(`{"type":"step","data":${ECHO_PROTO}}`)) as { type: string; data: { code: string; errors: Json[] } };
      assert.equal(ws.type, 'error');
      assert.equal(ws.data.code, 'VALIDATION_ERROR');
      assert.deepEqual(ws.data.errors[0]!.loc, ['data', 'arguments', '__proto__']);
      assert.match(String(ws.data.errors[0]!.msg), /__proto__.*rename it/);
      // The episode took no turn.
      assert.equal(((await socket.state()) as { data: { turns: number } }).data.turns, 0);
      await socket.close();

      const http = new OpenEnvHttpClient(server.url);
      const step = await http.step(`{"task_id":"probe/two","action":${ECHO_PROTO}}`);
      assert.equal(step.status, 422);
      assert.deepEqual((step.body as { detail: Json[] }).detail[0]!.loc, ['body', 'action', 'arguments', '__proto__']);

      const rpc = await http.mcp(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"task_id":"probe/two","name":"echo","arguments":{"text":"kept","__proto__":{}}}}`);
      const error = (rpc.body as { id: number; error: { code: number; message: string } }).error;
      assert.equal((rpc.body as { id: number }).id, 7);
      assert.equal(error.code, -32600);
      assert.match(error.message, /params\.arguments\.__proto__: a key named __proto__/);
    } finally {
      await server.close();
    }
  });

  it('refuses text that is not UTF-8 (a binary frame, an HTTP body) instead of handing on U+FFFD', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    const invalid = (before: string, after: string) => Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe]), Buffer.from(after)]);
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      socket.socket.send(invalid('{"type":"step","data":{"type":"call_tool","tool_name":"echo","arguments":{"text":"', '"}}}'), { binary: true });
      const ws = (await socket.next()) as { type: string; data: { code: string; message: string } };
      assert.deepEqual([ws.type, ws.data.code], ['error', 'INVALID_JSON']);
      assert.match(ws.data.message, /not valid UTF-8/);
      // The same frame as valid UTF-8, binary too, is served.
      socket.socket.send(Buffer.from('{"type":"step","data":{"type":"call_tool","tool_name":"echo","arguments":{"text":"é"}}}'), { binary: true });
      assert.equal(((await socket.next()) as { data: { observation: { result: { content: string } } } }).data.observation.result.content, 'é');
      await socket.close();

      const mcpSocket = await OpenEnvSocket.connect(server.url, { path: '/mcp?task_id=probe/two' });
      mcpSocket.socket.send(invalid('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"', '"}}}'), { binary: true });
      const frame = (await mcpSocket.next()) as { error: { code: number; message: string } };
      assert.equal(frame.error.code, -32700);
      assert.match(frame.error.message, /not valid UTF-8/);
      mcpSocket.terminate();

      const post = (path: string, body: Buffer) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(body) });
      const step = await post('/step', invalid('{"task_id":"probe/two","action":{"type":"call_tool","tool_name":"echo","arguments":{"text":"', '"}}}'));
      assert.equal(step.status, 422);
      assert.match(JSON.stringify(await step.json()), /not valid UTF-8/);
      const rpc = (await (await post('/mcp', invalid('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"task_id":"probe/two","name":"echo","arguments":{"text":"', '"}}}'))).json()) as {
        error: { code: number; message: string };
      };
      assert.equal(rpc.error.code, -32700);
      assert.match(rpc.error.message, /not valid UTF-8/);
    } finally {
      await server.close();
    }
  });

  it('counts stateless requests against --max-sessions: 503 over HTTP, -32000 over MCP, and a session refused while one runs', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0, maxSessions: 1 });
    try {
      const http = new OpenEnvHttpClient(server.url);
      const socket = await OpenEnvSocket.connect(server.url);
      for (const reply of [await http.reset({}), await http.step({ action: { type: 'list_tools' } })]) {
        assert.equal(reply.status, 503);
        assert.deepEqual(reply.body, { detail: 'server at capacity: 1 of 1 sessions in use', active_sessions: 1, max_sessions: 1 });
      }
      const rpc = (await http.rpc('tools/list')).body as { error: { code: number; data: Json } };
      assert.equal(rpc.error.code, -32000);
      assert.deepEqual(rpc.error.data, { active_sessions: 1, max_sessions: 1 });
      await socket.close();
      await waitFor(() => server.stats().sessions === 0, 'the socket session to end');

      // A stateless call in flight holds its environment like a session.
      const call = http.step({ task_id: 'probe/two', action: { type: 'call_tool', tool_name: 'wait', arguments: {} }, timeout_s: 30 });
      await waitFor(() => probeWaits.active === 1, 'the stateless call to start');
      assert.equal(server.stats().sessions, 1);
      const late = await OpenEnvSocket.connect(server.url);
      assert.equal(((await late.next()) as { data: { code: string } }).data.code, 'CAPACITY_REACHED');
      assert.equal((await late.closed).code, 1013);
      await server.close();
      await call.catch(() => undefined);
    } finally {
      await server.close();
    }
  });

  it('stops the work of a stateless request whose client goes away: a session-less MCP call, a /step verification', async () => {
    const server = await startOpenEnvServer({ env: stallEnv, port: 0, now: () => clock.now });
    try {
      const gone = new AbortController();
      const rpc = fetch(`${server.url}/mcp`, {
        method: 'POST',
        signal: gone.signal,
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { task_id: STALL_TASKS.open.id, name: 'wait', arguments: {} } }),
      }).catch(() => 'aborted');
      await waitFor(() => probeWaits.active === 1, 'the MCP call to start');
      gone.abort();
      await rpc;
      await waitFor(() => probeWaits.active === 0 && server.stats().sessions === 0, 'the MCP call to stop and its environment to close');

      const left = new AbortController();
      const step = fetch(`${server.url}/step`, {
        method: 'POST',
        signal: left.signal,
        body: JSON.stringify({ task_id: STALL_TASKS.open.id, action: { type: 'submit', answer: 'done' } }),
      }).catch(() => 'aborted');
      await waitFor(() => stalls.active === 1, 'the verification to start');
      left.abort();
      await step;
      await waitFor(() => stalls.active === 0 && server.stats().sessions === 0, 'the verification to stop and its environment to close');
    } finally {
      await server.close();
    }
  });

  it('stops a session-less MCP call still running when the server shuts down', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    const http = new OpenEnvHttpClient(server.url);
    const call = http.rpc('tools/call', { task_id: 'probe/two', name: 'wait' }).catch(() => undefined);
    await waitFor(() => probeWaits.active === 1, 'the MCP call to start');
    await server.close();
    assert.equal(probeWaits.active, 0, 'the call saw its abort before close() resolved');
    assert.equal(server.stats().sessions, 0);
    await call;
  });

  it('opens no session for a request whose body arrives while the server shuts down, where nothing would ever close it', { timeout: 20_000 }, async () => {
    const server = await startOpenEnvServer({ env: stallEnv, port: 0 });
    // A failing run must not leave the stuck call (and the server) holding the test process open.
    after(() => {
      if (stuck.active > 0) stuck.release();
      return server.close();
    });
    const host = new URL(server.url).host;
    const socket = await OpenEnvSocket.connect(server.url);
    await socket.reset({ task_id: STALL_TASKS.open.id });
    // A call that ignores its abort keeps the shutdown waiting while the late bodies arrive.
    socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'stuck', arguments: { ms: 0 } } });
    await waitFor(() => stuck.active === 1, 'the stuck call to start');
    // The step's own message holds its bytes while it runs.
    const held = server.stats().bodyBytes;
    const create = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'openenv/session/create', params: {} });
    const mcp = await openRaw(server.url);
    mcp.socket.write(`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${create.length}\r\n\r\n${create.slice(0, 5)}`);
    const reset = await openRaw(server.url);
    reset.socket.write(`POST /reset HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\n\r\n{`);
    await waitFor(() => server.stats().bodyBytes === held + create.length + 2, 'both bodies to be on their way');

    const closing = server.close();
    mcp.socket.write(create.slice(5));
    reset.socket.write('}');
    const answered = (raw: typeof mcp) => /\r\n\r\n\{.*\}$/s.test(raw.received());
    await waitFor(() => answered(mcp) && answered(reset), 'both late requests to be answered');
    stuck.release();
    await closing;
    const body = (raw: typeof mcp) => JSON.parse(raw.received().split('\r\n\r\n')[1]!) as unknown;
    assert.deepEqual(body(mcp), { jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'server shutting down: it opens no new sessions', data: null } });
    assert.match(reset.received(), /^HTTP\/1\.1 503 /);
    assert.deepEqual(body(reset), { detail: 'server shutting down: it opens no new sessions' });
    assert.equal(server.stats().sessions, 0, 'no session outlives close()');
  });

  it("refuses an MCP request naming another connection's WebSocket session", async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      const created = (await socket.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 1, method: 'openenv/session/create', params: {} } })) as { data: { result: { session_id: string } } };
      const id = created.data.result.session_id;
      const http = new OpenEnvHttpClient(server.url);
      const reply = (await http.rpc('tools/call', { session_id: id, name: 'echo', arguments: { text: 'from elsewhere' } })).body as { error: { code: number; message: string } };
      assert.equal(reply.error.code, -32602);
      assert.match(reply.error.message, /not an MCP session.*only the WebSocket connection that holds it/);
      const other = await OpenEnvSocket.connect(server.url);
      const viaSocket = (await other.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { session_id: id } } })) as { data: { error: { code: number } } };
      assert.equal(viaSocket.data.error.code, -32602);
      // Its own connection still plays it, untouched.
      assert.equal(((await socket.state()) as { data: { turns: number } }).data.turns, 0);
      await other.close();
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it('drops a client that leaves more than 16 MiB of replies unread, closing its environment', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      // Stops reading: replies pile up in the kernel, then in the server's socket buffer.
      socket.socket.pause();
      const text = 'x'.repeat(600 * 1024);
      // Each reply carries the text twice (content and data): about 48 MiB in all.
      for (let i = 0; i < 40; i++) socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'echo', arguments: { text } } });
      await waitFor(() => server.stats().sessions === 0, 'the server to drop the client that does not read');
      socket.terminate();
    } finally {
      await server.close();
    }
  });

  it('counts replies a client has not taken in the body budget until they are sent, and gives them back', async () => {
    const { env, shouts } = loudEnvironment();
    const server = await startOpenEnvServer({ env, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      socket.socket.pause();
      const steps = 12;
      for (let i = 0; i < steps; i++) socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'shout', arguments: { kib: 1024 } } });
      // 12 MiB of replies: more than loopback's socket buffers take, less than the 16 MiB that drops a client.
      await waitFor(() => shouts.calls === steps && server.stats().bodyBytes > 1024 * 1024, 'the unsent replies to be counted');
      socket.socket.resume();
      for (let i = 0; i < steps; i++) {
        const reply = (await socket.next()) as { type: string };
        assert.equal(reply.type, 'observation');
      }
      await waitFor(() => server.stats().bodyBytes === 0, 'every reply sent and its bytes given back');
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it('counts an HTTP reply a client has not read in the body budget until it is sent, and gives it back', async () => {
    const { env, shouts } = loudEnvironment();
    const server = await startOpenEnvServer({ env, port: 0 });
    const raw = await openRaw(server.url);
    try {
      raw.socket.pause();
      const body = JSON.stringify({ task_id: 'probe/two', action: { type: 'call_tool', tool_name: 'shout', arguments: { kib: 12 * 1024 } } });
      const host = new URL(server.url).host;
      raw.socket.write(`POST /step HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      // 12 MiB of reply: more than loopback's socket buffers take, so most of it waits in the server.
      await waitFor(() => shouts.calls === 1 && server.stats().bodyBytes > 1024 * 1024, 'the unsent reply to be counted');
      raw.socket.resume();
      await waitFor(() => server.stats().bodyBytes === 0, 'the reply sent and its bytes given back');
      await untilReceived(raw, '"done"');
      assert.match(raw.received(), /^HTTP\/1\.1 200 /);
    } finally {
      raw.socket.destroy();
      await server.close();
    }
  });

  it('drops a client whose waiting frames pass twice the largest frame, before holding them all', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'wait', arguments: {} } });
      await waitFor(() => probeWaits.active === 1, 'the wait call to start');
      const big = JSON.stringify({ type: 'state', pad: 'x'.repeat(12 * 1024 * 1024) });
      for (let i = 0; i < 3; i++) socket.send(big);
      await waitFor(() => !socket.isOpen, 'the server to drop the client');
      const told = (await socket.next()) as { data: { code: string; message: string } };
      assert.equal(told.data.code, 'SESSION_ERROR');
      assert.match(told.data.message, /more than 33554432 bytes of messages waiting/);
      assert.equal((await socket.closed).code, 1008);
      await waitFor(() => server.stats().sessions === 0, 'the session to end');
      assert.equal(probeWaits.active, 0);
    } finally {
      await server.close();
    }
  });

  it('stops a verification given up on past the deadline and its grace, instead of letting it run on', async () => {
    clock.now = 0;
    const episode = new OpenEnvEpisode({ environment: instantiate(stallEnv), catalog: taskCatalog(Object.values(STALL_TASKS)), now: () => clock.now });
    try {
      await episode.reset({ task_id: STALL_TASKS.once.id });
      // The one turn ends the episode 1 ms before the verification's bound; the check then works on past it.
      const step = episode.step({ type: 'call_tool', tool_name: 'advance', arguments: { ms: 60_000 + VERIFY_GRACE_MS - 1 } }, { signal: new AbortController().signal });
      await assert.rejects(step, (error: unknown) => error instanceof EpisodeFailure && /verification abandoned/.test(error.message));
      await waitFor(() => stalls.active === 0, 'the abandoned verification to see its abort');
    } finally {
      await episode.close();
    }
  });

  it('gives up on a tool call that ignores its abort past the deadline and its grace, as an infrastructure failure', { timeout: 20_000 }, async () => {
    clock.now = 0;
    const episode = new OpenEnvEpisode({ environment: instantiate(stallEnv), catalog: taskCatalog(Object.values(STALL_TASKS)), now: () => clock.now });
    try {
      await episode.reset({ task_id: STALL_TASKS.open.id });
      // The call takes the clock past the bound and never returns by itself.
      const step = episode.step({ type: 'call_tool', tool_name: 'stuck', arguments: { ms: 60_000 + VERIFY_GRACE_MS } }, { signal: new AbortController().signal });
      await assert.rejects(step, (error: unknown) => error instanceof EpisodeFailure && error.failure === 'infra' && !error.retryable && /stuck call abandoned/.test(error.message));
      assert.equal(stuck.active, 1, 'the tool still holds on; the step did not wait for it');
      await assert.rejects(episode.step({ type: 'submit', answer: 'x' }, { signal: new AbortController().signal }), /stopped by a failure/);
    } finally {
      stuck.release();
      await episode.close();
    }
  });
});
