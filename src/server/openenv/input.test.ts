import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_JSON_DEPTH } from '../../core/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket } from '../../../test/support/openenv-client.ts';
import { startOpenEnvServer, type OpenEnvServer } from './server.ts';
import { probeEnv } from './test-env.ts';

type Json = Record<string, unknown>;

/** `[[[…"x"…]]]` nested `depth` levels deep, as text (building the value would be as deep). */
const nestedText = (depth: number) => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
const TOO_DEEP = new RegExp(`more than ${MAX_JSON_DEPTH} levels deep`);

describe('OpenEnv input limits', () => {
  let server: OpenEnvServer;
  let http: OpenEnvHttpClient;
  before(async () => {
    server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    http = new OpenEnvHttpClient(server.url);
  });
  after(() => server.close());

  it('answers JSON nested past the limit with a validation error naming it, on every transport, not a defect', async () => {
    const args = nestedText(10_000);
    const step = await http.step(`{"action":{"type":"call_tool","tool_name":"echo","arguments":{"text":${args}}},"task_id":"probe/two"}`);
    assert.equal(step.status, 422, JSON.stringify(step.body));
    const [issue] = (step.body as { detail: { type: string; loc: string[]; msg: string }[] }).detail;
    assert.deepEqual([issue?.type, issue?.loc], ['json_too_deep', ['body']]);
    assert.match(issue?.msg ?? '', TOO_DEEP);

    const rpc = (await http.mcp(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":${args}}}}`)).body as { id: unknown; error: { code: number; message: string } };
    assert.equal(rpc.id, 7);
    assert.equal(rpc.error.code, -32600);
    assert.match(rpc.error.message, TOO_DEEP);

    const socket = await OpenEnvSocket.connect(server.url);
    await socket.reset({ task_id: 'probe/two' });
    const frame = (await socket.request(`{"type":"step","data":{"type":"call_tool","tool_name":"echo","arguments":{"text":${args}}}}`)) as { type: string; data: { code: string; errors: { msg: string }[] } };
    assert.equal(frame.data.code, 'VALIDATION_ERROR', JSON.stringify(frame).slice(0, 500));
    assert.match(frame.data.errors[0]?.msg ?? '', TOO_DEEP);
    assert.equal(((await socket.state()) as { data: { done: boolean } }).data.done, false, 'the episode goes on');
    await socket.close();

    const mcp = await OpenEnvSocket.connect(server.url, { path: '/mcp?task_id=probe/two' });
    const reply = (await mcp.request(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":${args}}}}`)) as { error: { code: number; message: string } };
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, TOO_DEEP);
    mcp.terminate();
  });

  it('takes JSON nested up to the limit as any other', async () => {
    // The body and action add 3 levels above `text`.
    const step = await http.step(`{"action":{"type":"call_tool","tool_name":"echo","arguments":{"text":${nestedText(MAX_JSON_DEPTH - 3)}}},"task_id":"probe/two"}`);
    assert.equal(step.status, 200, JSON.stringify(step.body).slice(0, 500));
    assert.equal(((step.body as Json).observation as Json).kind, 'call_tool');
  });

  it('tells a WS /mcp client a seed out of range by its range, not as a string', async () => {
    for (const [seed, pattern] of [['-1', /seed: .*>=0/], ['1.5', /seed: .*int/]] as const) {
      const socket = await OpenEnvSocket.connect(server.url, { path: `/mcp?seed=${seed}` });
      const reply = (await socket.next()) as { error: { code: number; message: string } };
      assert.equal(reply.error.code, -32602);
      assert.match(reply.error.message, pattern, seed);
      assert.doesNotMatch(reply.error.message, /string/);
      assert.equal((await socket.closed).code, 1008);
    }
  });
});
