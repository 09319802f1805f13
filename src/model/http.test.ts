// The transport every HTTP adapter shares: Retry-After, silence accounting, per-call time-outs, scrubbing.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import type { JsonObject, ModelResult } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import { DEFAULT_TIMEOUT_MS, RETRY_AFTER_CAP_MS } from './http.ts';
import { createOpenAIChat } from './openai-chat.ts';
import { fakeFetch, manualClock, readFixture, request, signal, type FakeReply } from './testing.ts';

const KEY = 'sk-live-SECRET-4242';
const ask = request({ messages: [{ role: 'user', content: 'hi' }] });
const success: FakeReply = { json: readFixture('sglang-chat-reasoning-content.json') };

function setup(replies: FakeReply[], options: { timeoutMs?: number; maxRetries?: number; stream?: boolean } = {}) {
  const fake = fakeFetch(replies);
  const clock = manualClock(Date.parse('2026-10-21T07:28:00Z'));
  const sleeps: number[] = [];
  const chat = createOpenAIChat({
    baseURL: 'http://127.0.0.1:8000/v1',
    model: 'm',
    apiKey: KEY,
    fetch: fake.fetch,
    now: clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    ...options,
  });
  return { chat, calls: fake.calls, sleeps, clock };
}

function failed(result: ModelResult): Extract<ModelResult, { ok: false }> {
  if (result.ok) assert.fail('expected a failure');
  return result;
}

describe('Retry-After', () => {
  it('waits as long as a 429 or 503 asks, in seconds or as an HTTP-date', async () => {
    const { chat, sleeps } = setup([
      { status: 429, text: 'slow down', headers: { 'retry-after': '3' } },
      { status: 503, text: 'busy', headers: { 'retry-after': 'Wed, 21 Oct 2026 07:28:13 GMT' } },
      success,
    ]);
    const result = await chat.complete(ask, { signal });
    assert.equal(result.ok, true);
    // 3 s after 07:28:00 is 07:28:03; the date asks for 10 s more.
    assert.deepEqual(sleeps, [3000, 10_000]);
  });

  it('prefers retry-after-ms, caps long waits, and ignores what it cannot read or statuses it does not apply to', async () => {
    const { chat, sleeps } = setup(
      [
        { status: 429, text: 'x', headers: { 'retry-after-ms': '250', 'retry-after': '9' } },
        { status: 429, text: 'x', headers: { 'retry-after': '3600' } },
        { status: 503, text: 'x', headers: { 'retry-after': 'soon' } },
        { status: 500, text: 'x', headers: { 'retry-after': '7' } },
        success,
      ],
      { maxRetries: 4 },
    );
    assert.equal((await chat.complete(ask, { signal })).ok, true);
    assert.deepEqual(sleeps, [250, RETRY_AFTER_CAP_MS, 2000, 4000]);
  });

  it('never sleeps past the caller abort', async () => {
    const controller = new AbortController();
    const fake = fakeFetch([{ status: 429, text: 'x', headers: { 'retry-after': '30' } }, success]);
    const asked: number[] = [];
    const chat = createOpenAIChat({
      baseURL: 'http://127.0.0.1:8000/v1',
      model: 'm',
      fetch: fake.fetch,
      sleep: (ms) => {
        asked.push(ms);
        controller.abort();
        return new Promise<void>(() => {});
      },
    });
    const failure = failed(await chat.complete(ask, { signal: controller.signal }));
    // The 429 is why the call failed: it keeps its kind, so a deadline that ends the wait blames the endpoint.
    assert.deepEqual([failure.kind, failure.retryable], ['http', true]);
    assert.match(failure.message, /HTTP 429: x \(stopped by the caller while waiting 30000 ms to retry\)$/);
    assert.deepEqual(asked, [30_000]);
    assert.equal(fake.calls.length, 1);
  });
});

describe('silence accounting', () => {
  it('the default request time-out is well inside the default task deadline', () => {
    assert.ok(DEFAULT_TIMEOUT_MS < 300_000);
  });

  it('sets silentMs on an abort, measured from the last byte of any attempt, across the backoff', async () => {
    const controller = new AbortController();
    const clock = manualClock();
    const fake = fakeFetch([{ status: 500, text: 'overloaded' }, 'hang']);
    let retried: () => void = () => {};
    const retrying = new Promise<void>((resolve) => (retried = resolve));
    const chat = createOpenAIChat({
      baseURL: 'http://127.0.0.1:8000/v1',
      model: 'm',
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
      fetch: (input, init) => {
        const answer = fake.fetch(input, init);
        if (fake.calls.length === 2) retried();
        return answer;
      },
    });
    const t0 = clock.now();
    const pending = chat.complete(ask, { signal: controller.signal });
    await retrying;
    // The 500 arrived at t0; the 500 ms backoff and the silent retry both count.
    clock.set(t0 + 8500);
    controller.abort();
    const failure = failed(await pending);
    assert.equal(failure.kind, 'aborted');
    assert.equal(failure.silentMs, 8500);
  });

  it('counts silence from the last byte received, even in the middle of a stream', async () => {
    const controller = new AbortController();
    const clock = manualClock();
    let wantsMore: () => void = () => {};
    const waiting = new Promise<void>((resolve) => (wantsMore = resolve));
    const event = `data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }] })}\n\n`;
    let pulls = 0;
    // highWaterMark 0: a pull happens only when the client reads, so the second one means it wants more.
    const body = new ReadableStream<Uint8Array>({
      pull(stream) {
        if (++pulls > 1) {
          wantsMore();
          return new Promise<void>(() => {});
        }
        clock.advance(2000);
        stream.enqueue(new TextEncoder().encode(event));
        return undefined;
      },
    }, { highWaterMark: 0 });
    const chat = createOpenAIChat({
      baseURL: 'http://127.0.0.1:8000/v1',
      model: 'm',
      now: clock.now,
      fetch: async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    });
    const pending = chat.complete(ask, { signal: controller.signal });
    await waiting;
    clock.advance(5000);
    controller.abort();
    const failure = failed(await pending);
    assert.equal(failure.kind, 'aborted');
    assert.equal(failure.silentMs, 5000);
    assert.match(failure.message, /aborted by the caller, after 1 events/);
    const record = (failure.wire?.response as JsonObject).gauntlet_stream as JsonObject;
    assert.deepEqual([record.events, record.bytes, record.complete], [1, Buffer.byteLength(event), false]);
  });

  it('reports silentMs on failures that end at once, too', async () => {
    const { chat } = setup([{ status: 400, text: 'bad request' }]);
    const failure = failed(await chat.complete(ask, { signal }));
    assert.equal(failure.silentMs, 0);
  });
});

describe('per-call options', () => {
  it('a call may set its own request time-out', async () => {
    const { chat } = setup(['hang'], { timeoutMs: 60_000, maxRetries: 0 });
    const failure = failed(await chat.complete(ask, { signal, timeoutMs: 30 }));
    assert.equal(failure.kind, 'timeout');
    assert.match(failure.message, /within 30 ms/);
  });

  it('many calls under one caller signal all end when it aborts, without a listener-leak warning', async () => {
    const { chat } = setup(Array.from({ length: 24 }, () => 'hang' as const), { timeoutMs: 60_000, maxRetries: 0 });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const caller = new AbortController();
      const pending = Array.from({ length: 24 }, () => chat.complete(ask, { signal: caller.signal }));
      caller.abort();
      const results = await Promise.all(pending);
      assert.deepEqual(new Set(results.map((r) => failed(r).kind)), new Set(['aborted']));
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('asks for a stream by default and accepts a server that answers with plain JSON', async () => {
    const { chat, calls } = setup([success]);
    const result = await chat.complete(ask, { signal });
    assert.equal(result.ok, true);
    assert.equal((calls[0]?.body as JsonObject).stream, true);
    assert.equal('gauntlet_stream' in (result.wire?.response as JsonObject), false);
  });
});

describe('secrets', () => {
  const echoed = (content: string): JsonObject => ({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'send', arguments: JSON.stringify({ token: KEY }) } }] }, finish_reason: 'stop' }] });
  const streamOf = (content: string): string =>
    [
      `data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { role: 'assistant', content: content.slice(0, 9) } }] })}\n\n`,
      `data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: content.slice(9) } }] })}\n\n`,
      `data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
      'data: [DONE]\n\n',
    ].join('');

  it('scrubs a key a server echoes inside the answer from the parsed response and the wire record, streamed or not', async () => {
    const content = `Your key is ${KEY}, keep it safe.`;
    for (const reply of [{ json: echoed(content) }, { sse: streamOf(content) }] satisfies FakeReply[]) {
      const { chat } = setup([reply]);
      const result = await chat.complete(ask, { signal });
      assert.equal(result.ok, true);
      assert.equal(JSON.stringify(result).includes(KEY), false, JSON.stringify(result).slice(0, 200));
      if (result.ok) assert.equal(result.response.message.content, 'Your key is ***, keep it safe.');
    }
  });

  it('scrubs it from a stream failure too', async () => {
    const { chat } = setup([{ sse: `data: {"error": {"message": "bad key ${KEY}", "code": 401}}\n\n` }]);
    const failure = failed(await chat.complete(ask, { signal }));
    assert.equal(failure.kind, 'http');
    assert.equal(JSON.stringify(failure).includes(KEY), false);
    assert.match(failure.message, /bad key \*\*\*/);
  });

  it('scrubs a key the conversation quotes from the recorded request, and records a clean request as sent', async () => {
    const leaky = request({ messages: [{ role: 'user', content: 'hi' }, { role: 'tool', toolCallId: 'c0', name: 'env', content: `OPENAI_API_KEY=${KEY}`, isError: false }] });
    const { chat, calls } = setup([success, success]);
    const scrubbed = await chat.complete(leaky, { signal });
    assert.equal(JSON.stringify(scrubbed.wire).includes(KEY), false);
    assert.match(JSON.stringify(scrubbed.wire?.request), /OPENAI_API_KEY=\*\*\*/);
    // What went out is what the conversation held; only the record is scrubbed.
    assert.match(JSON.stringify(calls[0]?.body), new RegExp(KEY));
    const clean = await chat.complete(ask, { signal });
    assert.deepEqual(clean.wire?.request, calls[1]?.body);
  });

  it('scrubs a key before a message or the wire record quotes the answer cut short, leaving no part of it', async () => {
    // Each answer puts the key where a quote of its first `length` characters ends (the quote's own
    // prefix subtracted), so the quote would hold all of the key but its last 3 characters.
    const at = (length: number, filler: string): string => `${filler.repeat(length - 'Bearer '.length - KEY.length + 3)}Bearer ${KEY}`;
    const replies: Record<string, FakeReply> = {
      'a body that is not JSON, on an error': { status: 500, text: at(300, 'x') },
      'a body that is not JSON, on success': { status: 200, text: at(80, 'x') },
      'a JSON error without a message': { status: 400, json: { oops: at(300 - '{"oops":"'.length, 'x') } },
      'a stream event that is not JSON': { sse: `data: ${at(120, 'y')} and more\n\n` },
      'a stream error without a message': { sse: `data: ${JSON.stringify({ error: { detail: at(300 - '{"detail":"'.length, 'e'), code: 401 } })}\n\n` },
      'a stream cut after the key': { sse: `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: at(160 - 'data: {"choices":[{"index":0,"delta":{"content":"'.length, 'z') } }] })}\n\n` },
    };
    const leaks: string[] = [];
    for (const [name, reply] of Object.entries(replies)) {
      const { chat } = setup([reply], { maxRetries: 0, stream: typeof reply === 'object' && 'sse' in reply });
      const recorded = JSON.stringify(failed(await chat.complete(ask, { signal })));
      if (recorded.includes(KEY.slice(0, 8))) leaks.push(`${name}: ${recorded.replace(/(.)\1{9,}/g, '$1…')}`);
      else assert.match(recorded, /Bearer \*\*\*/, `${name}: the scrubbed key is marked`);
    }
    assert.deepEqual(leaks, [], 'part of the key is left in these failures');
  });

  it('leaves a placeholder key (shorter than 8 characters) in answers, which scrubbing it would corrupt', async () => {
    const answer: JsonObject = { id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'The EMPTY set, x = 1', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: '{"x":1}' } }] }, finish_reason: 'tool_calls' }] };
    for (const placeholder of ['x', '1', 'EMPTY', 'dummy']) {
      const fake = fakeFetch([{ json: answer }]);
      const chat = createOpenAIChat({ baseURL: 'http://127.0.0.1:8000/v1', model: 'm', apiKey: placeholder, fetch: fake.fetch, stream: false });
      const result = await chat.complete(ask, { signal });
      if (!result.ok) assert.fail(`placeholder ${placeholder}: ${result.message}`);
      assert.equal(result.response.message.content, 'The EMPTY set, x = 1', `placeholder ${placeholder}`);
      assert.equal(result.response.message.toolCalls[0]?.id, 'c1', `placeholder ${placeholder}`);
      assert.deepEqual(result.wire?.response, answer, `placeholder ${placeholder}: the wire record as received`);
    }
  });

  it('the Anthropic adapter scrubs the same way', async () => {
    const { fetch } = fakeFetch([{ json: { id: 'm', type: 'message', role: 'assistant', content: [{ type: 'text', text: `echo ${KEY}` }], stop_reason: 'end_turn', usage: {} } }]);
    const client = createAnthropicMessages({ baseURL: 'https://api.anthropic.com', model: 'm', apiKey: KEY, fetch });
    const result = await client.complete(ask, { signal });
    assert.equal(JSON.stringify(result).includes(KEY), false);
  });
});

describe("the caller's signal", () => {
  it('carries no abort listener once its requests are done (by the end of that loop turn), so an AbortSignal.any of a rollout is not kept for the life of the run', async () => {
    const { chat } = setup([success, success, { status: 500, text: 'down' }, success]);
    // A rollout's signal as the agent loop makes it: the run's, which never aborts, and its own deadline.
    const run = new AbortController();
    const rollout = AbortSignal.any([run.signal, new AbortController().signal]);
    assert.equal((await chat.complete(ask, { signal: rollout })).ok, true);
    assert.equal((await Promise.all([chat.complete(ask, { signal: rollout }), chat.complete(ask, { signal: rollout })])).every((r) => r.ok), true);
    // Kept until the loop turn's check phase, for a next call made in the same turn.
    await new Promise((resolve) => setImmediate(resolve));
    // Node holds a composite signal with an abort listener until it aborts: one left here leaked every rollout.
    assert.equal(getEventListeners(rollout, 'abort').length, 0);
  });
});
