// The key the gateway sends upstream (its own, or the one a client brought) never lands in what it
// records, even when the upstream echoes it in answers, errors and broken bodies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayBaseUrl, startGateway } from './index.ts';
import { attachMemory, postJson } from './test-support.ts';

const KEY = 'sk-upstream-SECRET-0123456789';

/** Places the key where a quote of the first `length` characters ends, so the quote would hold all of it but its tail. */
const at = (length: number): string => `${'x'.repeat(length - 'Bearer '.length - KEY.length + 3)}Bearer ${KEY}`;

/** An upstream that answers each request by the user message's text, echoing the Authorization it got. */
const echoing: typeof fetch = (input, init) => {
  const auth = new Headers(init?.headers).get('authorization') ?? '';
  const body = JSON.parse(String(init?.body)) as { messages: { content: string }[] };
  const ask = body.messages[0]?.content;
  const json = (value: unknown, status = 200): Response => Response.json(value, { status });
  switch (ask) {
    case 'answer':
      return Promise.resolve(json({ id: 'c1', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `served to ${auth}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    case 'error':
      return Promise.resolve(json({ error: { message: `bad key ${auth}` } }, 401));
    case 'untyped error':
      return Promise.resolve(new Response(at(2000), { status: 500 }));
    case 'not json':
      return Promise.resolve(new Response(at(80), { status: 200, headers: { 'content-type': 'application/json' } }));
    default:
      return Promise.resolve(new Response(`data: ${at(120)}\n\n`, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
  }
};

describe('gateway: the upstream key in what is recorded', () => {
  for (const [who, gatewayKey, clientHeaders] of [
    ['the gateway’s own key', KEY, {}],
    ['a key the client brought', undefined, { authorization: `Bearer ${KEY}` }],
  ] as const) {
    it(`scrubs ${who} from every recorded call, leaving no part of it`, async () => {
      const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', port: 0, engine: 'vllm', fetch: echoing, ...(gatewayKey ? { apiKey: gatewayKey } : {}) });
      const rollout = attachMemory(gateway, 'ro_secrets');
      try {
        const asks = ['answer', 'error', 'untyped error', 'not json', 'stream event not json'];
        for (const ask of asks) {
          const sent = postJson(`${gatewayBaseUrl(gateway.url, 'ro_secrets')}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: ask }], stream: ask.startsWith('stream') }, clientHeaders);
          // A broken stream is cut for the client too: only the record matters here.
          await sent.catch((error: unknown) => assert.ok(ask.startsWith('stream'), `${ask}: ${String(error)}`));
        }
        assert.equal(rollout.recorder.calls.length, asks.length, 'every call recorded');
        const leaks = rollout.recorder.calls.flatMap((call, i) => (JSON.stringify(call).includes(KEY.slice(0, 8)) ? [`${asks[i]}: ${JSON.stringify({ response: call.response, error: call.error }).replace(/x{10,}/g, 'x…')}`] : []));
        assert.deepEqual(leaks, [], 'part of the key is left in these recorded calls');
        const first = rollout.recorder.calls[0]?.response?.message;
        assert.ok(first?.role === 'assistant' && first.content === 'served to Bearer ***', `the echo is marked: ${JSON.stringify(first)}`);
      } finally {
        rollout.detach();
        await gateway.close();
      }
    });
  }
});
