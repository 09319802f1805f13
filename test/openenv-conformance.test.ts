// Conformance of `gauntlet serve-env` with the OpenEnv protocol (protocols.md §1), through a client
// written from the protocol text: HTTP endpoints, the /ws episode channel and its error codes, and
// the MCP JSON-RPC session flow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { getEnvironment } from '../src/envs/index.ts';
import { startOpenEnvServer, type OpenEnvServer } from '../src/server/openenv/index.ts';
import { probeEnv } from '../src/server/openenv/test-env.ts';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from './support/openenv-client.ts';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `expected a JSON object, got ${JSON.stringify(value)}`);
  return value as Json;
};

/** `{"type":"error","data":{"code": …}}` with the given code; returns data. */
function expectError(frame: unknown, code: string): Json {
  const message = obj(frame);
  assert.equal(message.type, 'error', JSON.stringify(frame));
  const data = obj(message.data);
  assert.equal(data.code, code, JSON.stringify(frame));
  assert.equal(typeof data.message, 'string');
  return data;
}

/** `{"type":"observation","data":{observation, reward, done}}`; returns data. */
function expectObservation(frame: unknown): { observation: Json; reward: unknown; done: unknown } {
  const message = obj(frame);
  assert.equal(message.type, 'observation', JSON.stringify(frame));
  const data = obj(message.data);
  assert.deepEqual(Object.keys(data).sort(), ['done', 'observation', 'reward']);
  return { observation: obj(data.observation), reward: data.reward, done: data.done };
}

/** After a message-level error the socket must stay open and keep answering. */
async function stillAnswers(socket: OpenEnvSocket): Promise<void> {
  assert.equal(obj(await socket.state()).type, 'state');
}

const mailTasks = getEnvironment('mail').tasks();
const task = (id: string) => mailTasks.find((t) => t.id === id) ?? assert.fail(`no mail task ${id}`);

describe('OpenEnv conformance (mail)', () => {
  let server: OpenEnvServer;
  let http: OpenEnvHttpClient;
  before(async () => {
    server = await startOpenEnvServer({ env: 'mail', port: 0, maxSessions: 8 });
    http = new OpenEnvHttpClient(server.url);
  });
  after(() => server.close());

  it('GET /health answers healthy', async () => {
    assert.deepEqual(await http.health(), { status: 200, body: { status: 'healthy' } });
  });

  it('GET /metadata gives the name, description and version', async () => {
    const { status, body } = await http.metadata();
    assert.equal(status, 200);
    const meta = obj(body);
    assert.equal(meta.name, 'mail');
    assert.ok(typeof meta.description === 'string' && meta.description.length > 0);
    assert.equal(typeof meta.version, 'string');
    for (const key of ['readme_content', 'author', 'documentation_url']) assert.ok(key in meta, key);
  });

  it('GET /schema gives JSON Schemas that the server\'s own observations, actions and state satisfy', async () => {
    const { status, body } = await http.schema();
    assert.equal(status, 200);
    const schemas = obj(body);
    const ajv = new Ajv2020({ strict: false });
    const action = ajv.compile(obj(schemas.action));
    const observation = ajv.compile(obj(schemas.observation));
    const state = ajv.compile(obj(schemas.state));
    assert.ok(action({ type: 'call_tool', tool_name: 'search_messages', arguments: { query: 'x' } }));
    assert.ok(action({ type: 'list_tools' }));
    assert.ok(!action({ type: 'call_tool' }), 'tool_name is required');
    const reset = obj((await http.reset({ task_id: 'mail/reply-boiler-visit' })).body);
    assert.ok(observation(reset.observation), JSON.stringify(observation.errors));
    const stepped = obj((await http.step({ action: { type: 'list_tools' } })).body);
    assert.ok(observation(stepped.observation), JSON.stringify(observation.errors));
    assert.ok(state(obj((await http.state()).body)));
  });

  it('POST /reset is stateless: a fresh episode with the given seed and episode_id, reward null, not done', async () => {
    const { status, body } = await http.reset({ seed: 42, episode_id: 'episode-001' });
    assert.equal(status, 200);
    const reply = obj(body);
    assert.equal(reply.reward, null);
    assert.equal(reply.done, false);
    const observation = obj(reply.observation);
    assert.equal(observation.episode_id, 'episode-001');
    assert.ok(Array.isArray(observation.tools) && observation.tools.length > 0);
    assert.ok(!('metadata' in observation), 'metadata never reaches the wire');
    assert.equal((await http.reset()).status, 200, 'the body is optional');
    assert.equal((await http.reset({ seed: -1 })).status, 422, 'seed must be >= 0');
    assert.equal((await http.reset({ episode_id: 'x'.repeat(256) })).status, 422, 'episode_id is at most 255 characters');
  });

  it('POST /step runs one action in a fresh episode and rejects invalid actions with FastAPI\'s 422 shape', async () => {
    const ok = await http.step({ action: { type: 'call_tool', tool_name: 'list_folders', arguments: {} }, timeout_s: 30 });
    assert.equal(ok.status, 200);
    const reply = obj(ok.body);
    assert.equal(obj(reply.observation).tool_name, 'list_folders');
    assert.equal(reply.done, false);
    const invalid = await http.step({ action: { type: 'call_tool', tool_name: '' } });
    assert.equal(invalid.status, 422);
    const detail = obj(invalid.body).detail as Json[];
    assert.ok(Array.isArray(detail) && detail.length > 0);
    assert.deepEqual(detail[0]?.loc, ['body', 'action', 'tool_name']);
    assert.equal(typeof detail[0]?.msg, 'string');
    assert.equal((await http.step({ action: { type: 'list_tools', extra: 1 } })).status, 422, 'actions forbid unknown fields');
    assert.equal((await http.step('{not json')).status, 422);
  });

  it('GET /state is the state of a fresh environment', async () => {
    const { status, body } = await http.state();
    assert.equal(status, 200);
    assert.equal(obj(body).episode_id, null);
    assert.equal(obj(body).step_count, 0);
  });

  it('plays a full /ws episode with a task\'s golden solution to reward 1 and done', async () => {
    const golden = task('mail/reply-boiler-visit');
    const socket = await OpenEnvSocket.connect(server.url);
    const reset = expectObservation(await socket.reset({ task_id: golden.id, seed: 7, episode_id: 'ep-1' }));
    assert.equal(reset.done, false);
    assert.equal(reset.reward, null);
    assert.equal(reset.observation.instruction, golden.instruction);
    for (const step of golden.golden.steps) {
      const last = expectObservation(await socket.step({ type: 'call_tool', tool_name: step.tool, arguments: step.arguments }));
      assert.equal(last.observation.tool_name, step.tool);
      assert.equal(last.observation.error, null, JSON.stringify(last.observation));
      assert.equal(last.done, false);
    }
    const ended = expectObservation(await socket.step({ type: 'submit', answer: golden.golden.answer ?? null }));
    assert.equal(ended.done, true);
    assert.equal(ended.reward, 1);
    const checks = obj(ended.observation.episode_end).checks as Json[];
    assert.ok(checks.length > 0 && checks.every((c) => c.passed === true && typeof c.name === 'string'));
    const state = obj(await socket.state());
    assert.equal(state.type, 'state');
    assert.equal(obj(state.data).episode_id, 'ep-1');
    assert.equal(obj(state.data).step_count, golden.golden.steps.length + 1);
    await socket.close();
  });

  it('ends a /ws episode when a golden step is a submitting tool, with reward 1', async () => {
    const golden = task('mail/kestrel-launch-date');
    const socket = await OpenEnvSocket.connect(server.url);
    expectObservation(await socket.reset({ task_id: golden.id }));
    let last: ReturnType<typeof expectObservation> | undefined;
    for (const step of golden.golden.steps) last = expectObservation(await socket.step({ type: 'call_tool', tool_name: step.tool, arguments: step.arguments }));
    assert.equal(last?.done, true);
    assert.equal(last?.reward, 1);
    await socket.close();
  });

  it('gives a do-nothing episode a reward below 1, and refuses a step after done with EXECUTION_ERROR', async () => {
    const socket = await OpenEnvSocket.connect(server.url);
    expectObservation(await socket.reset({ task_id: 'mail/reply-boiler-visit' }));
    const ended = expectObservation(await socket.step({ type: 'submit' }));
    assert.equal(ended.done, true);
    assert.ok(typeof ended.reward === 'number' && ended.reward < 1);
    expectError(await socket.step({ type: 'submit' }), 'EXECUTION_ERROR');
    await stillAnswers(socket);
    expectObservation(await socket.reset({}));
    await socket.close();
  });

  it('answers malformed messages with INVALID_JSON, UNKNOWN_TYPE and VALIDATION_ERROR and keeps the socket open', async () => {
    const socket = await OpenEnvSocket.connect(server.url);
    expectError(await socket.request('{"type": "reset",'), 'INVALID_JSON');
    await stillAnswers(socket);
    expectError(await socket.request({ type: 'teleport' }), 'UNKNOWN_TYPE');
    expectError(await socket.request({ data: {} }), 'UNKNOWN_TYPE');
    await stillAnswers(socket);
    for (const bad of [{ type: 'step' }, { type: 'state', extra: true }, { type: 'reset', data: 'seed=1' }, { type: 'reset', data: { seed: -3 } }, [1, 2]]) {
      const data = expectError(await socket.request(bad), 'VALIDATION_ERROR');
      assert.ok(Array.isArray(data.errors) && data.errors.length > 0, JSON.stringify(bad));
      const first = obj((data.errors as unknown[])[0]);
      assert.ok(Array.isArray(first.loc) && typeof first.msg === 'string');
    }
    expectObservation(await socket.reset({}));
    const badAction = expectError(await socket.step({ type: 'call_tool', tool_name: 'search_messages', arguments: {}, surprise: 1 }), 'VALIDATION_ERROR');
    assert.ok((badAction.errors as Json[]).some((e) => (e.loc as unknown[])[0] === 'data'));
    const unknownTool = expectObservation(await socket.step({ type: 'call_tool', tool_name: 'teleport' }));
    assert.deepEqual(obj(unknownTool.observation.error).error_type, 'tool_not_found', 'an unknown tool is the agent\'s mistake: an observation, not a protocol error');
    await stillAnswers(socket);
    assert.ok(socket.isOpen);
    await socket.close();
  });

  it('answers a step before any reset with EXECUTION_ERROR, socket open', async () => {
    const socket = await OpenEnvSocket.connect(server.url);
    expectError(await socket.step({ type: 'call_tool', tool_name: 'list_folders', arguments: {} }), 'EXECUTION_ERROR');
    await stillAnswers(socket);
    await socket.close();
  });

  it('answers MCP JSON-RPC inside /ws messages on the session\'s own episode', async () => {
    const socket = await OpenEnvSocket.connect(server.url);
    expectObservation(await socket.reset({ task_id: 'mail/reply-boiler-visit' }));
    const listed = obj(await socket.request({ type: 'mcp', data: { jsonrpc: '2.0', method: 'tools/list', params: {}, id: 1 } }));
    assert.equal(listed.type, 'mcp');
    const tools = obj(obj(listed.data).result).tools as Json[];
    assert.ok(tools.some((t) => t.name === 'search_messages' && typeof t.inputSchema === 'object'));
    const called = obj(obj(await socket.request({ type: 'mcp', data: { jsonrpc: '2.0', method: 'tools/call', params: { name: 'search_messages', arguments: { query: 'boiler' } }, id: 2 } })).data);
    assert.equal(called.id, 2);
    assert.match(JSON.stringify(obj(called.result).content), /msg_2741/);
    assert.equal(obj((await socket.state()) as Json).type, 'state');
    assert.equal(obj(obj(await socket.state()).data).turns, 1, 'the MCP call used a turn of the same episode');
    await socket.close();
  });

  it('closes the socket and the session on {"type":"close"}', async () => {
    const socket = await OpenEnvSocket.connect(server.url);
    expectObservation(await socket.reset({}));
    const closed = await socket.close();
    assert.equal(closed.code, 1000);
    await waitFor(() => server.stats().sessions === 0, 'the session to end');
  });
});

describe('OpenEnv conformance (terminal, a sandboxed environment)', () => {
  it('plays a golden episode to reward 1 with one live sandbox, and closes the sandbox with the session', async () => {
    const golden = getEnvironment('terminal').tasks().find((t) => t.id === 'terminal/bump-package-version') ?? assert.fail('no terminal task');
    const server = await startOpenEnvServer({ env: 'terminal', port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      expectObservation(await socket.reset({ task_id: golden.id }));
      assert.deepEqual([server.stats().sessions, server.stats().sandboxes], [1, 1]);
      let last: ReturnType<typeof expectObservation> | undefined;
      for (const step of golden.golden.steps) last = expectObservation(await socket.step({ type: 'call_tool', tool_name: step.tool, arguments: step.arguments }));
      if (!last?.done) last = expectObservation(await socket.step({ type: 'submit', answer: golden.golden.answer ?? null }));
      assert.equal(last.done, true);
      assert.equal(last.reward, 1, JSON.stringify(last.observation));
      await socket.close();
      await waitFor(() => server.stats().sessions === 0, 'the session to end');
      assert.equal(server.stats().sandboxes, 0);
    } finally {
      await server.close();
    }
  });
});

describe('OpenEnv conformance: MCP JSON-RPC over HTTP and WS /mcp', () => {
  let server: OpenEnvServer;
  let http: OpenEnvHttpClient;
  before(async () => {
    server = await startOpenEnvServer({ env: 'mail', port: 0, maxSessions: 2 });
    http = new OpenEnvHttpClient(server.url);
  });
  after(() => server.close());

  const result = (reply: { status: number; body: unknown }): Json => {
    assert.equal(reply.status, 200);
    const body = obj(reply.body);
    assert.equal(body.jsonrpc, '2.0');
    assert.ok(!('error' in body), JSON.stringify(body));
    return obj(body.result);
  };
  const rpcError = (reply: { status: number; body: unknown }, code: number): Json => {
    assert.equal(reply.status, 200, 'the HTTP transport always answers 200');
    const error = obj(obj(reply.body).error);
    assert.equal(error.code, code, JSON.stringify(reply.body));
    return error;
  };

  it('creates a session, lists and calls tools on it, closes it, and then no longer knows it', async () => {
    const created = result(await http.rpc('openenv/session/create', { task_id: 'mail/reply-boiler-visit' }, 1));
    const sessionId = created.session_id;
    assert.equal(typeof sessionId, 'string');
    assert.equal(server.stats().sessions, 1);
    const tools = result(await http.rpc('tools/list', { session_id: sessionId }, 2)).tools as Json[];
    assert.ok(tools.some((t) => t.name === 'reply'));
    const golden = task('mail/reply-boiler-visit');
    for (const step of golden.golden.steps) {
      const called = result(await http.rpc('tools/call', { session_id: sessionId, name: step.tool, arguments: step.arguments }, 3));
      assert.equal(called.isError, false, JSON.stringify(called));
    }
    assert.deepEqual(result(await http.rpc('openenv/session/close', { session_id: sessionId }, 4)), { session_id: sessionId, closed: true });
    assert.equal(server.stats().sessions, 0);
    assert.match(String(rpcError(await http.rpc('tools/call', { session_id: sessionId, name: 'list_folders' }, 5), -32602).message), /Unknown session_id/);
  });

  it('answers tools/list without a session from a throwaway environment', async () => {
    const tools = result(await http.rpc('tools/list')).tools as Json[];
    assert.ok(tools.length > 0);
    assert.equal(server.stats().sessions, 0);
  });

  it('uses the JSON-RPC error codes: parse, invalid request, method not found, invalid params, capacity', async () => {
    rpcError(await http.mcp('{"jsonrpc": "2.0", '), -32700);
    rpcError(await http.mcp({ jsonrpc: '1.0', method: 'tools/list', id: 1 }), -32600);
    rpcError(await http.mcp({ method: 'tools/list', id: 1 }), -32600);
    rpcError(await http.rpc('resources/list'), -32601);
    rpcError(await http.rpc('tools/call', { arguments: {} }), -32602);
    rpcError(await http.rpc('openenv/session/close', {}), -32602);
    rpcError(await http.rpc('openenv/session/create', { task_id: 'mail/no-such-task' }), -32602);
    const a = result(await http.rpc('openenv/session/create')).session_id;
    const b = result(await http.rpc('openenv/session/create')).session_id;
    const full = rpcError(await http.rpc('openenv/session/create'), -32000);
    assert.deepEqual(full.data, { active_sessions: 2, max_sessions: 2 });
    for (const id of [a, b]) result(await http.rpc('openenv/session/close', { session_id: id }));
    assert.equal(server.stats().sessions, 0);
  });

  it('serves raw JSON-RPC frames on WS /mcp over a session of its own', async () => {
    const socket = await OpenEnvSocket.connect(server.url, { path: '/mcp?task_id=mail/reply-boiler-visit' });
    const listed = obj(await socket.request({ jsonrpc: '2.0', method: 'tools/list', params: {}, id: 'a' }));
    assert.equal(listed.id, 'a');
    assert.ok((obj(listed.result).tools as Json[]).length > 0);
    const called = obj(await socket.request({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'search_messages', arguments: { query: 'boiler' } }, id: 'b' }));
    assert.match(JSON.stringify(called.result), /msg_2741/);
    assert.equal(obj(obj(await socket.request('{oops')).error).code, -32700);
    assert.equal(server.stats().sessions, 1);
    socket.terminate();
    await waitFor(() => server.stats().sessions === 0, 'the WS /mcp session to end on disconnect');
  });
});

describe('OpenEnv conformance: session error codes', () => {
  it('refuses a connection past max_sessions with CAPACITY_REACHED and its counts, then closes it', async () => {
    const server = await startOpenEnvServer({ env: 'mail', port: 0, maxSessions: 1 });
    try {
      const first = await OpenEnvSocket.connect(server.url);
      const second = await OpenEnvSocket.connect(server.url);
      const data = expectError(await second.next(), 'CAPACITY_REACHED');
      assert.equal(data.active_sessions, 1);
      assert.equal(data.max_sessions, 1);
      await second.closed;
      await stillAnswers(first);
      await first.close();
    } finally {
      await server.close();
    }
  });

  it('reports an environment that cannot be created with FACTORY_ERROR and its factory name, then closes', async () => {
    const server = await startOpenEnvServer({
      env: 'mail',
      port: 0,
      environmentFactory: () => {
        throw new Error('no environment today');
      },
    });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      const data = expectError(await socket.next(), 'FACTORY_ERROR');
      assert.equal(typeof data.factory_name, 'string');
      assert.match(String(data.message), /no environment today/);
      await socket.closed;
      assert.equal(server.stats().sessions, 0);
    } finally {
      await server.close();
    }
  });

  it('ends an idle session with SESSION_ERROR and closes the socket', async () => {
    const server = await startOpenEnvServer({ env: 'mail', port: 0, sessionTimeoutMs: 150 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      expectObservation(await socket.reset({}));
      expectError(await socket.next(), 'SESSION_ERROR');
      const closed = await socket.closed;
      assert.equal(closed.code, 1001);
      await waitFor(() => server.stats().sessions === 0, 'the idle session to end');
    } finally {
      await server.close();
    }
  });

  it('tells open sessions SESSION_ERROR when the server shuts down', async () => {
    const server = await startOpenEnvServer({ env: 'mail', port: 0 });
    const socket = await OpenEnvSocket.connect(server.url);
    expectObservation(await socket.reset({}));
    await server.close();
    expectError(await socket.next(), 'SESSION_ERROR');
    await socket.closed;
    assert.equal(server.stats().sessions, 0);
  });

  it('reports an infrastructure failure as EXECUTION_ERROR, not as an observation with a reward', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      expectObservation(await socket.reset({ task_id: 'probe/two' }));
      const data = expectError(await socket.step({ type: 'call_tool', tool_name: 'crash', arguments: {} }), 'EXECUTION_ERROR');
      assert.equal(data.failure, 'infra');
      assert.ok(!('reward' in data));
      await stillAnswers(socket);
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it('leaves out /reset, /step and /state in production mode and keeps /ws', async () => {
    const server = await startOpenEnvServer({ env: 'mail', port: 0, mode: 'production' });
    try {
      const http = new OpenEnvHttpClient(server.url);
      assert.equal((await http.reset({})).status, 404);
      assert.equal((await http.step({ action: { type: 'list_tools' } })).status, 404);
      assert.equal((await http.state()).status, 404);
      assert.equal((await http.health()).status, 200);
      const socket = await OpenEnvSocket.connect(server.url);
      expectObservation(await socket.reset({}));
      await socket.close();
    } finally {
      await server.close();
    }
  });
});
