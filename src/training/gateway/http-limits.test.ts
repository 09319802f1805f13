// The gateway bounds what one client may hold on each listener (sockets past `maxConnections`
// turned away, request heads sent a byte at a time cut) and never times a model's answer: a
// stream that runs on long past the request timeout reaches the client whole.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { fillConnections, getHead, openRaw, trickleHead, type RawSocket } from '../../../test/support/raw-sockets.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { startGateway, type Gateway } from './index.ts';

// A failing test should fail, not wait out Node's minute-long defaults.
const GUARD = { timeout: 20_000 };
const FAST = { headersTimeoutMs: 100, requestTimeoutMs: 100 };

const opened: { gateways: Gateway[]; sockets: RawSocket[]; closers: (() => void)[] } = { gateways: [], sockets: [], closers: [] };
after(async () => {
  for (const raw of opened.sockets) raw.socket.destroy();
  await Promise.all(opened.gateways.map((gateway) => gateway.close()));
  for (const close of opened.closers) close();
});

/** An engine whose streamed answers the test holds open (`held`) and ends when it likes. */
async function startEngine(): Promise<{ url: string; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: 'Look' }));
      held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  opened.closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, held };
}

function chunk(delta: Record<string, string>, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** A gateway; its upstream is never asked unless the test gives one (port 9 answers nothing). */
async function serve(options: Partial<Parameters<typeof startGateway>[0]>): Promise<Gateway> {
  const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', ...options });
  opened.gateways.push(gateway);
  return gateway;
}

describe('gateway HTTP limits', () => {
  it('turns away a connection past maxConnections on TCP and on its unix socket, while those open are still answered', GUARD, async () => {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'gauntlet-gw-limits-')), 'gw.sock');
    const gateway = await serve({ maxConnections: 2, socketPath });
    for (const where of [gateway.url, { path: socketPath }]) {
      const { answers, extra, afterwards, sockets } = await fillConnections(where, 2, getHead('/health', 'localhost'));
      opened.sockets.push(...sockets);
      assert.deepEqual({ answers, extra, afterwards }, { answers: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], extra: null, afterwards: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'] }, JSON.stringify(where));
    }
  });

  it('cuts a client that sends its request head a byte at a time', GUARD, async () => {
    const gateway = await serve({ httpTimeouts: FAST });
    const slow = await openRaw(gateway.url);
    opened.sockets.push(slow);
    await trickleHead(slow);
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('passes on a streamed answer that runs on long past the request and head timeouts', GUARD, async () => {
    const engine = await startEngine();
    const gateway = await serve({ upstream: engine.url, httpTimeouts: FAST });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('Look')) {
      const part = await reader.read();
      assert.ok(!part.done, `the stream ended early: ${text}`);
      text += decoder.decode(part.value, { stream: true });
    }
    // A socket opened since has been cut for sending nothing: the timeout checks have run past the call's request.
    const idle = await openRaw(gateway.url);
    opened.sockets.push(idle);
    await idle.closed;
    await waitFor(() => engine.held.length === 1, 'the engine to hold its answer');
    engine.held[0]!.end(`${chunk({ content: 'ing' }, 'stop')}data: [DONE]\n\n`);
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value, { stream: true });
    assert.match(text, /Look[\s\S]*ing[\s\S]*\[DONE\]/);
  });

  it('names a bad limit before it listens', async () => {
    await assert.rejects(serve({ maxConnections: 0 }), (error: unknown) => error instanceof InputError && error.where === 'maxConnections');
  });
});
