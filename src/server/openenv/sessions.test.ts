import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import { startOpenEnvServer } from './server.ts';
import { probeEnv, probeWaits } from './test-env.ts';

const WAIT = { type: 'call_tool', tool_name: 'wait', arguments: {} };

describe('OpenEnv sessions', () => {
  it('aborts the call in flight when its client disconnects, then closes the environment', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      socket.send({ type: 'step', data: WAIT });
      await waitFor(() => probeWaits.active === 1, 'the wait call to start');
      socket.terminate();
      await waitFor(() => server.stats().sessions === 0, 'the session to end');
      assert.equal(probeWaits.active, 0, 'the call saw its abort');
    } finally {
      await server.close();
    }
  });

  it('answers messages sent back to back in their order, a slow call before the quick ones behind it', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'pause', arguments: { ms: 50 } } });
      socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'echo', arguments: { text: 'second' } } });
      socket.send({ type: 'state' });
      const replies = (await Promise.all([socket.next(), socket.next(), socket.next()])) as { type: string; data: { observation?: { tool_name: string }; step_count?: number } }[];
      assert.deepEqual(
        replies.map((r) => r.data.observation?.tool_name ?? `state after ${r.data.step_count} steps`),
        ['pause', 'echo', 'state after 2 steps'],
      );
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it('drops a client that sends more than 64 messages without reading the replies', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      socket.send({ type: 'step', data: WAIT });
      for (let i = 0; i < 64; i++) socket.send({ type: 'state' });
      const closed = await socket.closed;
      assert.equal(closed.code, 1008);
      await waitFor(() => server.stats().sessions === 0, 'the session to end');
      assert.equal(probeWaits.active, 0);
    } finally {
      await server.close();
    }
  });

  it('ends MCP sessions left idle past the session timeout', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0, sessionTimeoutMs: 100 });
    try {
      const http = new OpenEnvHttpClient(server.url);
      const created = (await http.rpc('openenv/session/create')).body as { result: { session_id: string } };
      assert.equal(server.stats().sessions, 1);
      await waitFor(() => server.stats().sessions === 0, 'the idle MCP session to end');
      const gone = (await http.rpc('tools/list', { session_id: created.result.session_id })).body as { error: { code: number } };
      assert.equal(gone.error.code, -32602);
    } finally {
      await server.close();
    }
  });
});
