import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, MAX_TIMER_MS } from '../../core/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import type { OpenEnvEpisode } from './episode.ts';
import { startOpenEnvServer } from './server.ts';
import { SessionRegistry } from './sessions.ts';
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
      // Not counted here: on a loaded machine the 100 ms may pass before the reply is read.
      assert.equal(typeof created.result.session_id, 'string');
      await waitFor(() => server.stats().sessions === 0, 'the idle MCP session to end');
      const gone = (await http.rpc('tools/list', { session_id: created.result.session_id })).body as { error: { code: number } };
      assert.equal(gone.error.code, -32602);
    } finally {
      await server.close();
    }
  });

  it('keeps a session whose idle timeout is past the longest timer delay, instead of ending it at once', async () => {
    // Only close() is used by the registry.
    const createEpisode = () => ({ close: async () => undefined }) as unknown as OpenEnvEpisode;
    const registry = (idleTimeoutMs: number) => new SessionRegistry({ maxSessions: 1, idleTimeoutMs, createEpisode, factoryName: 'test' });
    const long = registry(3_000_000_000);
    const short = registry(20);
    const kept = long.open('mcp-http');
    const ended = short.open('mcp-http');
    assert.ok(kept.ok && ended.ok);
    // An overflowing delay fires after 1 ms, well before the short timeout's 20.
    await waitFor(() => short.get(ended.session.id) === undefined, 'the 20 ms session to end');
    assert.ok(long.get(kept.session.id), 'the long timeout has not fired');
    await long.end(kept.session, 'closed by client');
  });

  it('counts a reserved slot against capacity until a session opens in it or it is given back', async () => {
    const createEpisode = () => ({ close: async () => undefined }) as unknown as OpenEnvEpisode;
    const registry = new SessionRegistry({ maxSessions: 1, createEpisode, factoryName: 'test' });
    const reserved = registry.reserve();
    assert.ok(reserved.ok);
    assert.equal(registry.size, 1);
    assert.equal(registry.reserve().ok, false);
    assert.equal(registry.open('ws').ok, false);
    const opened = registry.open('throwaway', reserved.slot);
    assert.ok(opened.ok);
    assert.equal(registry.size, 1, 'the session took the place of the slot, not a second one');
    assert.equal(reserved.slot.release(), false, 'the slot was used up by open');
    assert.equal(registry.open('throwaway', reserved.slot).ok, false, 'a used slot holds no place');
    await registry.end(opened.session, 'closed by client');
    const again = registry.reserve();
    assert.ok(again.ok);
    assert.equal(again.slot.release(), true);
    assert.equal(registry.size, 0);
  });

  it('refuses a session timeout past the longest timer delay, or under 1 ms, naming the option', async () => {
    for (const sessionTimeoutMs of [MAX_TIMER_MS + 1, 3_000_000_000, 0, 0.5]) {
      await assert.rejects(
        startOpenEnvServer({ env: probeEnv, port: 0, sessionTimeoutMs }),
        (e: unknown) => e instanceof InputError && e.where === 'sessionTimeoutMs' && /from 1 to 2147483647/.test(e.message),
        String(sessionTimeoutMs),
      );
    }
    await assert.rejects(startOpenEnvServer({ env: probeEnv, port: 70_000 }), (e: unknown) => e instanceof InputError && e.where === 'port' && /0 to 65535/.test(e.message));
  });
});
