// Streams that go wrong, over a real loopback HTTP server that sends exactly what each case needs.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import type { ModelResult } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import { createOpenAIChat } from './openai-chat.ts';
import { noSleep, request, signal, withServer } from './testing.ts';

const chunk = (delta: object, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const OPENAI_EVENTS = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop')];
const DONE = 'data: [DONE]\n\n';

const anthropicEvent = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const ANTHROPIC_EVENTS = [
  anthropicEvent('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
  anthropicEvent('content_block_stop', { index: 0 }),
  anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }),
];
const MESSAGE_STOP = anthropicEvent('message_stop', {});

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

/** Writes `events`, then (once they are on the wire) drops the connection. */
function cutAfter(res: ServerResponse, events: string[]): void {
  startStream(res);
  res.write(events.join(''), () => res.destroy());
}

function failed(result: ModelResult): Extract<ModelResult, { ok: false }> {
  if (result.ok) assert.fail(`expected a failure, got ${JSON.stringify(result.response.message)}`);
  return result;
}

const openai = (base: string, options: { maxRetries?: number; timeoutMs?: number; stream?: boolean } = {}) =>
  createOpenAIChat({ baseURL: `${base}/v1`, model: 'm', sleep: noSleep, maxRetries: 0, ...options });
const anthropic = (base: string, options: { maxRetries?: number; timeoutMs?: number } = {}) =>
  createAnthropicMessages({ baseURL: base, model: 'm', sleep: noSleep, maxRetries: 0, ...options });
const ask = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('faults while streaming', () => {
  it('a connection closed mid-stream is a retryable connection failure naming the URL and what arrived; the retry succeeds', async () => {
    await withServer(
      (res, attempt) => (attempt === 1 ? cutAfter(res, OPENAI_EVENTS.slice(0, 2)) : (startStream(res), res.end([...OPENAI_EVENTS, DONE].join('')))),
      async (base) => {
        const failure = failed(await openai(base).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'connection');
        assert.equal(failure.retryable, true);
        assert.match(failure.message, new RegExp(`^POST ${base}/v1/chat/completions: the event stream broke after 2 events`));
        assert.match(failure.message, /"content":"Hel"/, 'names the last event received');
        assert.equal(typeof failure.silentMs, 'number');
        assert.deepEqual((failure.wire?.response as { gauntlet_stream: { complete: boolean } }).gauntlet_stream.complete, false);

        const retried = await openai(base, { maxRetries: 1 }).complete(request(ask), { signal });
        assert.equal(retried.ok ? retried.response.message.content : retried.message, 'Hello');
      },
    );
  });

  it('an OpenAI stream that ends without data: [DONE] is a connection failure, not a short answer', async () => {
    await withServer(
      (res) => (startStream(res), res.end(OPENAI_EVENTS.join(''))),
      async (base) => {
        const failure = failed(await openai(base).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'connection');
        assert.equal(failure.retryable, true);
        assert.match(failure.message, /ended without its terminal event \(data: \[DONE\]\), after 4 events/);
      },
    );
  });

  it('an Anthropic stream that ends without message_stop is a connection failure', async () => {
    await withServer(
      (res) => (startStream(res), res.end(ANTHROPIC_EVENTS.join(''))),
      async (base) => {
        const failure = failed(await anthropic(base).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'connection');
        assert.match(failure.message, new RegExp(`^POST ${base}/v1/messages: the event stream ended without its terminal event \\(event: message_stop\\)`));
      },
    );
    await withServer(
      (res) => (startStream(res), res.end([...ANTHROPIC_EVENTS, MESSAGE_STOP].join(''))),
      async (base) => {
        const result = await anthropic(base).complete(request(ask), { signal });
        assert.equal(result.ok ? result.response.message.content : result.message, 'Hello');
      },
    );
  });

  it('a data line that is not JSON is a malformed response, quoting it', async () => {
    await withServer(
      (res) => (startStream(res), res.end([OPENAI_EVENTS[0], 'data: {"id":"c1","choices":[{"delta":{"content":"x\n\n', DONE].join(''))),
      async (base) => {
        const failure = failed(await openai(base, { maxRetries: 2 }).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'malformed_response');
        assert.equal(failure.retryable, false);
        assert.match(failure.message, /an event's data is not JSON: "\{\\"id\\":\\"c1\\"/);
        assert.match(failure.message, /after 2 events/);
      },
    );
  });

  it('an error inside the stream is an HTTP failure, retryable when the server says it was overloaded', async () => {
    const oom = `data: ${JSON.stringify({ error: { object: 'error', message: 'CUDA out of memory', type: 'InternalServerError', code: 500 } })}\n\n`;
    await withServer(
      (res) => (startStream(res), res.end([OPENAI_EVENTS[0], oom].join(''))),
      async (base) => {
        const failure = failed(await openai(base).complete(request(ask), { signal }));
        assert.deepEqual([failure.kind, failure.retryable], ['http', true]);
        assert.match(failure.message, /the stream carried an error \(InternalServerError\): CUDA out of memory/);
      },
    );
    for (const [type, retryable] of [['overloaded_error', true], ['invalid_request_error', false]] as const) {
      await withServer(
        (res) => (startStream(res), res.end([ANTHROPIC_EVENTS[0], anthropicEvent('error', { error: { type, message: `said ${type}` } })].join(''))),
        async (base) => {
          const failure = failed(await anthropic(base).complete(request(ask), { signal }));
          assert.deepEqual([failure.kind, failure.retryable], ['http', retryable]);
          assert.match(failure.message, new RegExp(`said ${type}`));
        },
      );
    }
  });
});

/** Sends `parts` one at a time, `gapMs` apart: a model that keeps producing, slowly. */
function trickle(res: ServerResponse, parts: string[], gapMs: number): void {
  let next = 0;
  const timer = setInterval(() => {
    const part = parts[next++];
    if (part === undefined) {
      clearInterval(timer);
      res.end();
    } else res.write(part);
  }, gapMs);
  res.on('close', () => clearInterval(timer));
}

describe('time-outs: silence while streaming, the whole request otherwise', () => {
  const TIMEOUT = 300;
  const GAP = 30;
  const pieces = Array.from({ length: 16 }, (_, i) => chunk({ content: `${i} ` }));

  it('a stream still producing tokens is not cut, however long it takes', async () => {
    await withServer(
      (res) => (startStream(res), trickle(res, [OPENAI_EVENTS[0] ?? '', ...pieces, chunk({}, 'stop'), DONE], GAP)),
      async (base) => {
        const started = Date.now();
        const result = await openai(base, { timeoutMs: TIMEOUT }).complete(request(ask), { signal });
        assert.ok(result.ok, result.ok ? '' : result.message);
        assert.ok(Date.now() - started > TIMEOUT, 'the answer took longer than the time-out');
        assert.equal(result.response.message.content.split(' ').length, 17);
      },
    );
  });

  it('a stream that goes silent times out, saying how much had arrived', async () => {
    await withServer(
      (res) => (startStream(res), res.write(OPENAI_EVENTS.slice(0, 2).join(''))),
      async (base) => {
        const failure = failed(await openai(base, { timeoutMs: 150 }).complete(request(ask), { signal }));
        assert.deepEqual([failure.kind, failure.retryable], ['timeout', true]);
        assert.match(failure.message, /the endpoint went silent: nothing received within 150 ms, after 2 events/);
        assert.ok((failure.silentMs ?? 0) >= 150, `silent for ${failure.silentMs} ms`);
      },
    );
  });

  it('without streaming, a body that keeps trickling still times out as a whole', async () => {
    const body = JSON.stringify({ id: 'c1', choices: [{ index: 0, message: { role: 'assistant', content: 'slow' }, finish_reason: 'stop' }] });
    const parts = Array.from({ length: 16 }, (_, i) => body.slice((i * body.length) / 16, ((i + 1) * body.length) / 16));
    await withServer(
      (res) => (res.writeHead(200, { 'content-type': 'application/json' }), trickle(res, parts, GAP)),
      async (base) => {
        const failure = failed(await openai(base, { timeoutMs: TIMEOUT, stream: false }).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'timeout');
        assert.match(failure.message, /no complete response within 300 ms/);
        assert.ok((failure.silentMs ?? Infinity) < TIMEOUT, 'bytes were still arriving');
      },
    );
  });
});

describe('an endpoint that redirects', () => {
  it('is not followed (the body would go elsewhere): the failure says where to point the base URL', async () => {
    let requests = 0;
    await withServer(
      (res) => {
        requests++;
        res.writeHead(308, { location: '/moved/v1/chat/completions' });
        res.end();
      },
      async (base) => {
        const failure = failed(await openai(base).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'http');
        assert.equal(failure.retryable, false);
        assert.match(failure.message, new RegExp(`HTTP 308: the endpoint redirects to ${base}/moved/v1/chat/completions; use that address as the base URL`));
        assert.equal(requests, 1);
      },
    );
  });

  it('with a malformed Location header is still a failure naming it, not a crash', async () => {
    await withServer(
      (res) => {
        res.writeHead(307, { location: 'http://[not-a-host' });
        res.end();
      },
      async (base) => {
        const failure = failed(await openai(base).complete(request(ask), { signal }));
        assert.equal(failure.kind, 'http');
        assert.match(failure.message, /HTTP 307: the endpoint redirects to "http:\/\/\[not-a-host"/);
      },
    );
  });
});
