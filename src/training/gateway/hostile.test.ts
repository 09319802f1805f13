// What a hostile or broken party can send the gateway: an agent program's bodies and paths, an
// upstream's streams and numbers. Each is refused with a 4xx naming what is wrong, or recorded as
// what it is; none crashes the gateway, corrupts the process, or leaves a record the store cannot
// read back.
import assert from 'node:assert/strict';
import { request, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { withServer } from '../../model/testing.ts';
import { openStore } from '../../store/index.ts';
import { MAX_BODY_BYTES } from './http.ts';
import { gatewayBaseUrl, startGateway } from './index.ts';
import { attachMemory, postJson } from './test-support.ts';

/** An upstream that must not be reached: the gateway refuses these requests itself. */
const unreachable: typeof fetch = () => Promise.reject(new Error('the upstream was asked'));

const nested = (depth: number, leaf: string): string => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

describe('gateway: hostile requests', () => {
  it('refuses a body nested too deep to walk with a 400 naming where, before anything is sent or recorded', async () => {
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: unreachable });
    const rollout = attachMemory(gateway, 'ro_deep');
    try {
      const base = gatewayBaseUrl(gateway.url, 'ro_deep');
      const cases: [string, string, RegExp][] = [
        ['/chat/completions', `{"messages":[{"role":"user","content":"x"}],"extra_body":${nested(10_000, '1')}}`, /^extra_body(\.a){127}$/],
        ['/chat/completions', `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nested(4_000, '{}')}}}]}`, /^tools\[0\]\.function\.parameters(\.a)+$/],
        ['/messages', `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[${nested(200, '1')}]}]}`, /^messages\[0\]\.content\[0\](\.a)+$/],
      ];
      for (const [path, body, param] of cases) {
        const answer = await postJson(`${base}${path}`, body);
        assert.equal(answer.status, 400, answer.text);
        const error = (JSON.parse(answer.text) as { error: { message: string; param?: string } }).error;
        assert.match(error.message, /nests arrays and objects deeper than 128 levels/);
        if (path !== '/messages') assert.match(error.param ?? '', param);
        else assert.match(error.message, /at messages\[0\]\.content\[0\]\.a/);
      }
      assert.equal(rollout.recorder.calls.length, 0);
      assert.equal(gateway.stats().refused, cases.length);
    } finally {
      rollout.detach();
      await gateway.close();
    }
  });

  it('refuses several choices on a recorded route, which would reach the client and never the record, before anything is sent', async () => {
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: unreachable });
    const rollout = attachMemory(gateway, 'ro_many');
    try {
      const base = gatewayBaseUrl(gateway.url, 'ro_many');
      const cases: [string, Record<string, unknown>, string][] = [
        ['/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 4 }, 'n'],
        ['/completions', { model: 'm', prompt: 'x', n: 2 }, 'n'],
        ['/completions', { model: 'm', prompt: 'x', best_of: 3 }, 'best_of'],
      ];
      for (const [path, body, field] of cases) {
        const answer = await postJson(`${base}${path}`, body);
        assert.equal(answer.status, 400, answer.text);
        const error = (JSON.parse(answer.text) as { error: { message: string; param?: string } }).error;
        assert.equal(error.param, field);
        assert.match(error.message, /a recorded call keeps one sampled answer/);
      }
      assert.equal(rollout.recorder.calls.length, 0);
    } finally {
      rollout.detach();
      await gateway.close();
    }
  });

  it('refuses a rollout path whose %-escapes are not UTF-8 with a 400, not a 500', async () => {
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: unreachable });
    try {
      const answer = await postJson(`${gateway.url}/rollouts/ro_%E0%A4%A/v1/chat/completions`, { messages: [{ role: 'user', content: 'x' }] });
      assert.equal(answer.status, 400, answer.text);
      assert.match((JSON.parse(answer.text) as { error: { message: string } }).error.message, /the rollout id "ro_%E0%A4%A" has characters a rollout id may not/);
    } finally {
      await gateway.close();
    }
  });
});

describe('gateway: a hostile upstream', () => {
  it('cannot write into Object.prototype with a "__proto__" key in a streamed delta', async () => {
    const chunk = (choice: string) => `data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[${choice}]}\n\n`;
    const stream =
      chunk('{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}') +
      chunk('{"index":0,"delta":{"__proto__":{"pollutedByUpstream":"yes"},"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":"{}","__proto__":{"pollutedByUpstream":"yes"}}}]},"logprobs":{"__proto__":{"pollutedByUpstream":"yes"}},"finish_reason":"stop","__proto__":{"pollutedByUpstream":"yes"}}') +
      'data: [DONE]\n\n';
    const upstream: typeof fetch = () => Promise.resolve(new Response(stream, { headers: { 'content-type': 'text/event-stream' } }));
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: upstream });
    const rollout = attachMemory(gateway, 'ro_proto');
    try {
      const answer = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_proto')}/chat/completions`, { messages: [{ role: 'user', content: 'x' }], stream: true });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(({} as Record<string, unknown>).pollutedByUpstream, undefined, 'Object.prototype was written to');
      const message = rollout.recorder.calls[0]?.response?.message;
      assert.ok(message?.role === 'assistant' && message.content === 'hi' && message.toolCalls[0]?.name === 'f', JSON.stringify(message));
    } finally {
      delete (Object.prototype as Record<string, unknown>).pollutedByUpstream;
      rollout.detach();
      await gateway.close();
    }
  });

  it('records a completions answer with out-of-range ids and counts so the store can read it back', async () => {
    const body = {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 0,
      model: 'm',
      prompt_token_ids: [1, 2],
      choices: [{ index: 0, text: 'hi', token_ids: [1e20, 5], logprobs: { tokens: ['a', 'b'], token_logprobs: [-0.1, -0.2], top_logprobs: null, text_offset: [0, 1] }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1.5, completion_tokens: -2, total_tokens: 3 },
    };
    const upstream: typeof fetch = () => Promise.resolve(Response.json(body));
    const store = openStore(':memory:');
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: upstream, store, runId: 'run_numbers' });
    try {
      const answer = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_numbers')}/completions`, { prompt: 'x' });
      assert.equal(answer.status, 200, answer.text);
      assert.equal((await postJson(`${gateway.url}/rollouts/ro_numbers/finish`, {})).status, 200);
    } finally {
      await gateway.close();
    }
    const [call] = store.modelCalls('ro_numbers');
    assert.deepEqual(call?.response?.tokens, { source: 'engine', promptIds: [1, 2], completionLogprobs: [-0.1, -0.2] }, 'ids that are not safe integers are left out, as the chat parser does');
    assert.deepEqual(call?.response?.usage, {});
    store.close();
  });
});

describe('gateway: oversize bodies on forwarded routes', () => {
  it('refuses a forwarded body over the limit with a 413 instead of holding all of it', async () => {
    let asked = 0;
    const counting: typeof fetch = () => {
      asked++;
      return Promise.resolve(Response.json({ object: 'list', data: [] }));
    };
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: counting });
    try {
      const answer = await fetch(`${gateway.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) });
      assert.equal(answer.status, 413, await answer.text());
      assert.equal(asked, 0, 'nothing was forwarded');
    } finally {
      await gateway.close();
    }
  });
});

/** A POST with its path sent as written (fetch and URL would resolve its dot segments first). */
function postRawPath(base: string, path: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (text += piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('gateway: forwarded paths that climb out of /v1', () => {
  it('refuses dot segments, however spelled, with a 400 naming the segment, and reaches no engine route outside /v1', async () => {
    const asked: string[] = [];
    const recording: typeof fetch = (input) => {
      asked.push(new URL(String(input)).pathname);
      return Promise.resolve(Response.json({ object: 'list', data: [] }));
    };
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: recording });
    try {
      for (const [path, segment] of [
        ['/v1/../update_weights_from_disk', '..'],
        ['/v1/%2e%2E/sleep', '%2e%2E'],
        ['/v1/models/..\\..\\collective_rpc', '..'],
        ['/rollouts/ro_1/v1/./../metrics', '.'],
      ] as const) {
        const answer = await postRawPath(gateway.url, path);
        assert.equal(answer.status, 400, `${path}: ${answer.text}`);
        assert.ok(answer.text.includes(`a ${JSON.stringify(JSON.stringify(segment)).slice(1, -1)} segment`), `${path}: ${answer.text}`);
      }
      assert.deepEqual(asked, [], 'nothing was forwarded');
      const plain = await postRawPath(gateway.url, '/v1/embeddings');
      assert.equal(plain.status, 200, plain.text);
      assert.deepEqual(asked, ['/v1/embeddings']);
    } finally {
      await gateway.close();
    }
  });
});

describe('gateway: an upstream stream that ends in the middle of an event', () => {
  it('is a cut stream (recorded as connection), and the half event is not passed on as a whole one', async () => {
    const first = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }] })}\n\n`;
    const half = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" the';
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // The body ends cleanly, but inside an event: no blank line, no [DONE].
        res.end(first + half);
      },
      async (upstream) => {
        const gateway = await startGateway({ upstream: `${upstream}/v1`, engine: 'vllm' });
        const rollout = attachMemory(gateway, 'ro_half');
        try {
          const response = await fetch(`${gatewayBaseUrl(gateway.url, 'ro_half')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }) });
          const received = await readUntilCut(response);
          assert.ok(received.startsWith(first), received);
          assert.equal(received.includes('" the'), false, `the half event reached the client as an event: ${received}`);
          const call = rollout.recorder.calls[0];
          assert.equal(call?.error?.kind, 'connection', JSON.stringify(call?.error));
          assert.match(call?.error?.message ?? '', /ended in the middle of an event/);
        } finally {
          rollout.detach();
          await gateway.close();
        }
      },
    );
  });
});

describe('gateway: an upstream stream whose token ids and logprobs do not line up', () => {
  const lp = (...values: number[]) => ({ content: values.map((logprob) => ({ token: 't', logprob, bytes: [], top_logprobs: [] })) });
  const chat = (choice: object, top: object = {}) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', ...top, choices: [{ index: 0, finish_reason: null, ...choice }] })}\n\n`;
  const opening = chat({ delta: { role: 'assistant', content: '' } }, { prompt_token_ids: [7, 8] });
  const closing = `${chat({ delta: {}, finish_reason: 'stop' })}data: [DONE]\n\n`;
  const streams = [
    // Two ids with one logprob, then one id with two: joined, the lists are of equal length, every pair after the first wrong.
    ['ids and logprobs counts that differ within an event', opening + chat({ delta: { content: 'ab' }, token_ids: [1, 2], logprobs: lp(-0.1) }) + chat({ delta: { content: 'c' }, token_ids: [3], logprobs: lp(-0.2, -0.3) }) + closing, /event 2 .* 2 token ids but 1 logprobs/],
    ['an event with logprobs and no ids among events with both', opening + chat({ delta: { content: 'a' }, logprobs: lp(-0.1) }) + chat({ delta: { content: 'b' }, token_ids: [2], logprobs: lp(-0.2) }) + closing, /event 3 .* logprobs without token ids/],
  ] as const;
  for (const [name, body, problem] of streams) {
    it(`records ${name} as a malformed answer with no tokens, and relays the stream to the chat client as sent`, async () => {
      await withServer(
        (res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(body);
        },
        async (upstream) => {
          const gateway = await startGateway({ upstream: `${upstream}/v1`, engine: 'vllm' });
          const rollout = attachMemory(gateway, 'ro_shift');
          try {
            const response = await fetch(`${gatewayBaseUrl(gateway.url, 'ro_shift')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true, logprobs: true, return_token_ids: true }) });
            assert.equal(await response.text(), body);
            const call = rollout.recorder.calls[0];
            assert.equal(call?.error?.kind, 'malformed_response', JSON.stringify(call?.error));
            assert.match(call?.error?.message ?? '', problem);
            assert.equal(call?.response?.tokens, undefined, 'no tokens are recorded as the answer');
          } finally {
            rollout.detach();
            await gateway.close();
          }
        },
      );
    });
  }
});

describe('gateway: an upstream that streams to a request for a whole answer', () => {
  it('is a 502 in the Messages and Responses APIs\' own error shapes and a malformed answer on record, not events their SDKs cannot read', async () => {
    const chunk = (choice: object) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, finish_reason: null, ...choice }] })}\n\n`;
    const events = `${chunk({ delta: { role: 'assistant', content: 'hi' } })}${chunk({ delta: {}, finish_reason: 'stop' })}data: [DONE]\n\n`;
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(events);
      },
      async (upstream) => {
        const gateway = await startGateway({ upstream: `${upstream}/v1`, engine: 'vllm' });
        const rollout = attachMemory(gateway, 'ro_unasked');
        try {
          const messages = await postJson(`${gateway.url}/rollouts/ro_unasked/v1/messages`, { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
          assert.equal(messages.status, 502, messages.text);
          assert.equal(messages.headers.get('content-type'), 'application/json');
          assert.match(messages.text, /"type":"error".*event stream .* whole answer/);
          const responses = await postJson(`${gateway.url}/rollouts/ro_unasked/v1/responses`, { model: 'm', input: 'x' });
          assert.equal(responses.status, 502, responses.text);
          assert.match(responses.text, /"error":\{"message":"the upstream answered with an event stream/);
          assert.deepEqual(rollout.recorder.calls.map((call) => call.error?.kind), ['malformed_response', 'malformed_response']);
          // A chat client gets what the upstream sent, as it would without the gateway.
          const chat = await postJson(`${gateway.url}/rollouts/ro_unasked/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
          assert.deepEqual([chat.status, chat.text], [200, events]);
        } finally {
          rollout.detach();
          await gateway.close();
        }
      },
    );
  });
});

/** What a client reads before the gateway cuts its connection. */
async function readUntilCut(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (let piece = await reader.read(); !piece.done; piece = await reader.read()) text += decoder.decode(piece.value, { stream: true });
  } catch (_error) {
    // cut, as expected
  }
  return text;
}

describe('gateway: an upstream answer past maxResponseBytes', () => {
  // The upstream never ends its answer: without a bound the gateway would hold it until memory ran out.
  const endless = (contentType: string, piece: string) => (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': contentType });
    const more = (): void => {
      while (!res.destroyed && res.write(piece));
      if (!res.destroyed) res.once('drain', more);
    };
    more();
  };

  it('is a 502 the client reads and a malformed answer on record, for a whole body', async () => {
    await withServer(endless('application/json', `{"pad":"${'x'.repeat(64 * 1024)}`), async (upstream) => {
      const gateway = await startGateway({ upstream: `${upstream}/v1`, engine: 'vllm', maxResponseBytes: 1_000_000 });
      const rollout = attachMemory(gateway, 'ro_big');
      try {
        const answer = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_big')}/chat/completions`, { messages: [{ role: 'user', content: 'x' }] });
        assert.equal(answer.status, 502, answer.text);
        assert.match(answer.text, /went past 1000000 bytes \(maxResponseBytes\)/);
        const call = rollout.recorder.calls[0];
        assert.equal(call?.error?.kind, 'malformed_response', JSON.stringify(call?.error));
      } finally {
        rollout.detach();
        await gateway.close();
      }
    });
  });

  it('ends a stream as a malformed answer on record, for events that never stop or one that never ends', async () => {
    const event = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: 'y'.repeat(1000) }, finish_reason: null }] })}\n\n`;
    for (const piece of [event, 'z'.repeat(64 * 1024)]) {
      await withServer(endless('text/event-stream', piece), async (upstream) => {
        const gateway = await startGateway({ upstream: `${upstream}/v1`, engine: 'vllm', maxResponseBytes: 1_000_000 });
        const rollout = attachMemory(gateway, 'ro_endless');
        try {
          const response = await fetch(`${gatewayBaseUrl(gateway.url, 'ro_endless')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }) });
          await readUntilCut(response);
          const call = rollout.recorder.calls[0];
          assert.equal(call?.error?.kind, 'malformed_response', JSON.stringify(call?.error));
          assert.match(call?.error?.message ?? '', /went past 1000000 bytes \(maxResponseBytes\), after \d+ events/);
        } finally {
          rollout.detach();
          await gateway.close();
        }
      });
    }
  });
});
