// The key the gateway sends upstream (its own, or the one a client brought) never lands in what it
// records, even when the upstream echoes it in answers, errors and broken bodies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayBaseUrl, startGateway } from './index.ts';
import { StreamScrubber } from './redact.ts';
import { trickle } from '../../model/testing.ts';
import { attachMemory, postJson } from './test-support.ts';

const KEY = 'sk-Q7xZr2Lm4Np8Vt3Kb6Hd1Wy5Jc';

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

/** Whether any 8 characters of the key in a row are in `text`: a key cut short or split still shows. */
function leaksKey(text: string, key = KEY): boolean {
  for (let i = 0; i + 8 <= key.length; i++) if (text.includes(key.slice(i, i + 8))) return true;
  return false;
}

const completion = (content: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/**
 * An upstream that echoes the Authorization it got wherever the test asks (by the user message, or
 * by the path for forwarded routes), in 7-byte network pieces so the key straddles reads.
 */
function echoingUpstream(): typeof fetch {
  return (input, init) => {
    const auth = new Headers(init?.headers).get('authorization') ?? '';
    const path = new URL(String(input)).pathname;
    const reply = (text: string, status = 200, type = 'application/json'): Promise<Response> => Promise.resolve(new Response(trickle(text, 7), { status, headers: { 'content-type': type } }));
    if (path.endsWith('/models')) return reply(JSON.stringify({ object: 'list', data: [{ id: 'm', owned_by: 'vllm', root: auth }] }));
    if (path.endsWith('/embeddings')) return reply(JSON.stringify({ error: { message: `key ${auth} may not embed` } }), 403);
    const body = JSON.parse(String(init?.body)) as { messages: { content: string }[] };
    switch (body.messages[0]?.content) {
      case 'error':
        return reply(JSON.stringify({ error: { message: `invalid key ${auth}` } }), 401);
      case 'long untyped error':
        return reply(at(2000).replace(`Bearer ${KEY}`, auth), 500, 'text/plain');
      case 'answer':
        return reply(JSON.stringify(completion(`served to ${auth}`)));
      case 'stream':
        return reply(`${chunk({ role: 'assistant', content: '' })}${chunk({ content: `served to ${auth}` })}${chunk({}, 'stop')}data: [DONE]\n\n`, 200, 'text/event-stream');
      case 'stream error':
        return reply(`${chunk({ role: 'assistant', content: '' })}data: ${JSON.stringify({ error: { message: `invalid key ${auth}` } })}\n\n`, 200, 'text/event-stream');
      default:
        return reply(`data: ${at(120).replace(`Bearer ${KEY}`, auth)}\n\n`, 200, 'text/event-stream');
    }
  };
}

describe('gateway: the upstream key in what is relayed to the client', () => {
  const asks: [string, string, Record<string, unknown>][] = [
    ['an error body', '/chat/completions', { messages: [{ role: 'user', content: 'error' }] }],
    ['an error body, as the Responses API', '/responses', { input: 'error' }],
    ['a long untyped error, quoted short by the Responses API', '/responses', { input: 'long untyped error' }],
    ['a long untyped error, quoted short by the Anthropic API', '/messages', { max_tokens: 5, messages: [{ role: 'user', content: 'long untyped error' }] }],
    ['a JSON 200 body, untouched', '/chat/completions', { messages: [{ role: 'user', content: 'answer' }], logprobs: true, return_token_ids: true }],
    ['a JSON 200 body, stripped', '/chat/completions', { messages: [{ role: 'user', content: 'answer' }] }],
    ['a JSON 200 body, as the Anthropic API', '/messages', { max_tokens: 5, messages: [{ role: 'user', content: 'answer' }] }],
    ['a stream', '/chat/completions', { messages: [{ role: 'user', content: 'stream' }], stream: true }],
    ['a stream, as the Responses API', '/responses', { input: 'stream', stream: true }],
    ['an error inside a stream', '/chat/completions', { messages: [{ role: 'user', content: 'stream error' }], stream: true }],
    ['an error inside a stream, as the Anthropic API', '/messages', { max_tokens: 5, messages: [{ role: 'user', content: 'stream error' }], stream: true }],
    ['a stream event that is not JSON', '/chat/completions', { messages: [{ role: 'user', content: 'stream not json' }], stream: true }],
  ];

  it('never hands the gateway’s own key to its client, recorded or not, split across reads or not', async () => {
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', port: 0, engine: 'vllm', fetch: echoingUpstream(), apiKey: KEY });
    const rollout = attachMemory(gateway, 'ro_relay');
    try {
      const leaks: string[] = [];
      const forwarded: string[] = [];
      for (const base of [gatewayBaseUrl(gateway.url, 'ro_relay'), `${gateway.url}/v1`]) {
        for (const [what, path, body] of asks) {
          const sent = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', ...body }) });
          // A broken stream is cut for a chat client: what it read before the cut is what counts.
          const text = await readWhatArrives(sent);
          if (leaksKey(text)) leaks.push(`${base.includes('ro_relay') ? 'recorded' : 'unrecorded'}: ${what}: ${text.replace(/x{10,}/g, 'x…')}`);
        }
        const models = await readWhatArrives(await fetch(`${base}/models`));
        forwarded.push(models);
        const embeddings = await readWhatArrives(await fetch(`${base}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
        for (const [what, text] of [['GET /v1/models', models], ['POST /v1/embeddings', embeddings]]) if (leaksKey(text as string)) leaks.push(`forwarded ${what}: ${text}`);
      }
      assert.deepEqual(leaks, [], 'the client was handed (part of) the gateway’s key');
      for (const models of forwarded) assert.match(models, /"root":"Bearer \*\*\*"/, 'a forwarded answer is scrubbed, not dropped');
      const answer = rollout.recorder.calls.find((call) => call.response?.message.role === 'assistant' && call.response.message.content.startsWith('served to'));
      assert.equal(answer?.response?.message.content, 'served to Bearer ***', 'the record is scrubbed as before');
    } finally {
      rollout.detach();
      await gateway.close();
    }
  });

  it('relays a key the client brought as the upstream sent it, and a key too short to scrub unchanged', async () => {
    for (const [gatewayKey, clientHeaders, key] of [
      [undefined, { authorization: `Bearer ${KEY}` }, KEY],
      ['EMPTY', {}, 'EMPTY'],
    ] as const) {
      const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', port: 0, engine: 'vllm', fetch: echoingUpstream(), ...(gatewayKey ? { apiKey: gatewayKey } : {}) });
      try {
        const answer = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'answer' }] }, clientHeaders);
        assert.equal((JSON.parse(answer.text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content, `served to Bearer ${key}`);
        const stream = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true }, clientHeaders);
        assert.ok(stream.text.includes(`served to Bearer ${key}`), stream.text);
      } finally {
        await gateway.close();
      }
    }
  });

  it('does not quote the upstream’s /models answer, key and all, when it cannot tell the engine', async () => {
    const notJson: typeof fetch = (input, init) => {
      const auth = new Headers(init?.headers).get('authorization') ?? '';
      // The key right where JSON.parse stops reading: its error message quotes what follows.
      return Promise.resolve(new Response(`{"owner": ${auth.replace('Bearer ', '')} }`, { status: 200, headers: { 'content-type': 'application/json' } }));
    };
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', port: 0, engine: 'auto', fetch: notJson, apiKey: KEY });
    const rollout = attachMemory(gateway, 'ro_detect');
    try {
      const answer = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_detect')}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(answer.status, 502, answer.text);
      assert.match(answer.text, /could not tell which engine/);
      assert.equal(leaksKey(answer.text), false, answer.text);
      assert.equal(leaksKey(JSON.stringify(rollout.recorder.calls)), false, JSON.stringify(rollout.recorder.calls));
    } finally {
      rollout.detach();
      await gateway.close();
    }
  });
});

/** The body as far as it arrives: a stream the gateway cuts ends the read, not the test. */
async function readWhatArrives(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  } catch (_error) {
    return text;
  }
}

describe('StreamScrubber', () => {
  it('masks the key wherever the reads split it, and passes everything else through byte for byte', () => {
    const text = `a ${KEY} b "${KEY}" ${KEY.slice(0, 10)} ends with half a key ${KEY.slice(0, 12)}`;
    const expected = `a *** b "***" ${KEY.slice(0, 10)} ends with half a key ${KEY.slice(0, 12)}`;
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const scrubber = new StreamScrubber(KEY);
      const out = Buffer.concat([scrubber.push(bytes.subarray(0, cut)), scrubber.push(bytes.subarray(cut)), scrubber.end()]).toString();
      assert.equal(out, expected, `split at byte ${cut}`);
    }
  });
});
