import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { gatewayBaseUrl, startGateway } from './index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { postJson } from './test-support.ts';

// An engine that stops answering must not hold a rollout's finish, or the agent's call, forever:
// the gateway hangs up after its upstream time-out of silence and records the call as a time-out.

const ASK = { model: 'm', messages: [{ role: 'user', content: 'Fix the parser.' }] };

function chunk(delta: Record<string, string>, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** A loopback engine whose answer to each generation request the test writes. */
async function startEngine(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; open: Set<ServerResponse>; close: () => Promise<void> }> {
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    open,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Each transport times silence its own way: node:http with the socket's idle time-out, an injected fetch with a timer.
for (const transport of [{ name: 'node:http' }, { name: 'an injected fetch', fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, init) }]) {
  describe(`the gateway hangs up on a silent upstream (${transport.name})`, () => {
    const through = transport.fetch ? { fetch: transport.fetch } : {};
    it('answers 504, records the call as a time-out, and lets a finish waiting on it commit the rollout', async () => {
      const engine = await startEngine(() => {});
      const store = openStore(':memory:');
      const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_hung', engine: 'vllm', upstreamTimeoutMs: 300, ...through });
      try {
        const call = postJson(`${gatewayBaseUrl(gateway.url, 'ro_hung')}/chat/completions`, ASK);
        await waitFor(() => gateway.stats().rollouts.open > 0, 'the call to open its rollout');
        const finish = postJson(`${gateway.url}/rollouts/ro_hung/finish`, { reward: 1 });
        const answered = await call;
        assert.equal(answered.status, 504, answered.text);
        assert.match(answered.text, /sent nothing for 0\.3 s/);
        const finished = await finish;
        assert.equal(finished.status, 200, finished.text);
        assert.equal((JSON.parse(finished.text) as { rollout: { status: string } }).rollout.status, 'infra_error');
        const [recorded] = store.modelCalls('ro_hung');
        assert.equal(recorded?.error?.kind, 'timeout');
        await waitFor(() => engine.open.size === 0, 'the gateway to close its request to the engine');
      } finally {
        await gateway.close();
        await engine.close();
        store.close();
      }
    });

    it('ends a stream that goes quiet mid-answer and records how far it got', async () => {
      const engine = await startEngine((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk({ role: 'assistant', content: 'Look' }));
        res.write(chunk({ content: 'ing' }));
      });
      const store = openStore(':memory:');
      const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_quiet', engine: 'vllm', upstreamTimeoutMs: 300, ...through });
      try {
        const response = await fetch(`${gatewayBaseUrl(gateway.url, 'ro_quiet')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ASK, stream: true }) });
        assert.equal(response.status, 200);
        // Chat completions' stream has no failure event: the client's stream is cut, as the engine's was.
        let text = '';
        const decoder = new TextDecoder();
        const reader = response.body!.getReader();
        await assert.rejects(async () => {
          for (let piece = await reader.read(); !piece.done; piece = await reader.read()) text += decoder.decode(piece.value, { stream: true });
        });
        assert.match(text, /Look/);
        assert.doesNotMatch(text, /\[DONE\]/);
        const [recorded] = store.modelCalls('ro_quiet');
        assert.equal(recorded?.error?.kind, 'timeout');
        assert.match(recorded.error.message, /sent nothing for 0\.3 s after 2 events/);
      } finally {
        await gateway.close();
        await engine.close();
        store.close();
      }
    });

    it('lets a slow stream run past the time-out as long as pieces keep coming', async () => {
      const pieces = 10;
      const engine = await startEngine((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let sent = 0;
        const timer = setInterval(() => {
          if (++sent < pieces) {
            res.write(chunk({ content: `w${sent} ` }));
            return;
          }
          clearInterval(timer);
          res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
        }, 150);
        res.on('close', () => clearInterval(timer));
      });
      const gateway = await startGateway({ upstream: engine.url, engine: 'vllm', upstreamTimeoutMs: 1000, ...through });
      try {
        const started = Date.now();
        const answered = await postJson(`${gateway.url}/v1/chat/completions`, { ...ASK, stream: true });
        assert.equal(answered.status, 200);
        assert.match(answered.text, /w9 /);
        assert.match(answered.text, /\[DONE\]/);
        assert.ok(Date.now() - started >= 1000, 'the whole answer took longer than the time-out');
        assert.equal(gateway.stats().failed, 0);
      } finally {
        await gateway.close();
        await engine.close();
      }
    });

    it('forwards routes it does not interpret under the same time-out', async () => {
      const engine = await startEngine(() => {});
      const gateway = await startGateway({ upstream: engine.url, engine: 'vllm', upstreamTimeoutMs: 200, ...through });
      try {
        const response = await fetch(`${gateway.url}/v1/models/extra`, { method: 'GET' });
        assert.equal(response.status, 504);
        assert.match(await response.text(), /sent nothing for 0\.2 s/);
      } finally {
        await gateway.close();
        await engine.close();
      }
    });
  });
}

it('refuses an upstream time-out that is not a whole number of milliseconds', async () => {
  await assert.rejects(startGateway({ upstream: 'http://127.0.0.1:9/v1', upstreamTimeoutMs: -1 }), (error: unknown) => error instanceof InputError && error.where === 'upstreamTimeoutMs');
});
