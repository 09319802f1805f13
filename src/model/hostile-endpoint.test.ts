// A hostile or broken endpoint, over a real loopback server: every call must end in bounded time,
// fail with a message that says what was wrong, and never pin the CPU or fill memory.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { TokenTrace, ToolCall, Usage, type JsonObject, type JsonValue, type ModelResult } from '../core/index.ts';
import { anthropicMessagesStream } from './anthropic-stream.ts';
import { createAnthropicMessages, parseMessagesResponse } from './anthropic.ts';
import { MAX_RESPONSE_DEPTH, realSleep } from './http.ts';
import { retryAfterMs } from './http-body.ts';
import { createOpenAIChat } from './openai-chat.ts';
import { parseChatCompletion } from './openai-parse.ts';
import { openAIChatStream } from './openai-stream.ts';
import { SseParser } from './sse.ts';
import { noSleep, request, signal, withServer } from './testing.ts';

/** Writes `piece` whenever the socket drains, until the client goes away: an endpoint that never stops. */
function endless(res: ServerResponse, piece: string): void {
  const write = (): void => {
    while (!res.destroyed && res.write(piece));
  };
  res.on('drain', write);
  write();
}

/** Writes `piece` every `ms` until the client goes away. */
function every(res: ServerResponse, ms: number, piece: string): void {
  const timer = setInterval(() => res.write(piece), ms);
  res.on('close', () => clearInterval(timer));
}

function failed(result: ModelResult): Extract<ModelResult, { ok: false }> {
  if (result.ok) assert.fail(`expected a failure, got ${JSON.stringify(result.response.message).slice(0, 200)}`);
  return result;
}

const chunk = (delta: object, extra: object = {}): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, ...extra }] })}\n\n`;
const ask = request({ messages: [{ role: 'user', content: 'hi' }] });
const openai = (base: string, options: { timeoutMs?: number; stream?: boolean; maxResponseBytes?: number } = {}) =>
  createOpenAIChat({ baseURL: `${base}/v1`, model: 'm', sleep: noSleep, maxRetries: 0, ...options });

describe('an endpoint that never stops sending', () => {
  it('an SSE event without a newline is cut at maxResponseBytes, as a non-retryable malformed response', async () => {
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk({ role: 'assistant', content: '' }));
        res.write('data: {"choices":[{"index":0,"delta":{"content":"');
        endless(res, 'x'.repeat(64 * 1024));
      },
      async (base) => {
        // Without a limit this read on until the caller's 20 s, holding everything in memory.
        const failure = failed(await openai(base, { maxResponseBytes: 2_000_000, timeoutMs: 20_000 }).complete(ask, { signal: AbortSignal.timeout(20_000) }));
        assert.deepEqual([failure.kind, failure.retryable], ['malformed_response', false]);
        assert.match(failure.message, /the response went past 2000000 bytes without ending \(maxResponseBytes\), after 1 events/);
        assert.match(failure.message, /then \d+ bytes without an event/);
        const record = (failure.wire?.response as { gauntlet_stream: { complete: boolean } }).gauntlet_stream;
        assert.equal(record.complete, false, 'the wire record of what arrived is kept');
      },
    );
  });

  it('so does a JSON body', async () => {
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"choices":[{"message":{"content":"');
        endless(res, 'y'.repeat(64 * 1024));
      },
      async (base) => {
        const failure = failed(await openai(base, { maxResponseBytes: 2_000_000, timeoutMs: 20_000, stream: false }).complete(ask, { signal: AbortSignal.timeout(20_000) }));
        assert.deepEqual([failure.kind, failure.retryable], ['malformed_response', false]);
        assert.match(failure.message, /went past 2000000 bytes/);
      },
    );
  });

  it('a line sent in thousands of pieces is parsed in time proportional to its length', () => {
    const parser = new SseParser();
    const piece = 'x'.repeat(16 * 1024);
    const started = Date.now();
    assert.deepEqual(parser.push('data: '), []);
    // 32 MB: rescanning the buffer on every piece took minutes.
    for (let i = 0; i < 2048; i++) assert.equal(parser.push(piece).length, 0);
    const [event] = parser.push('\r\n\r\n');
    assert.equal(event?.data.length, 2048 * piece.length);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    // A CR that ends one piece and the LF that starts the next are one line end.
    assert.deepEqual([...parser.push('data: a\r'), ...parser.push('\ndata: b\r'), ...parser.push('\n\r'), ...parser.push('\n')], [{ event: '', data: 'a\nb' }]);
  });
});

describe('an endpoint that only keeps the connection alive', () => {
  it('keep-alive comments forever are silence: the request times out instead of running to the deadline', async () => {
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk({ role: 'assistant', content: '' }));
        every(res, 20, ': keep-alive\n\n');
      },
      async (base) => {
        const failure = failed(await openai(base, { timeoutMs: 300 }).complete(ask, { signal: AbortSignal.timeout(10_000) }));
        assert.deepEqual([failure.kind, failure.retryable], ['timeout', true]);
        assert.match(failure.message, /the endpoint went silent: nothing received within 300 ms, after 1 events .*; then \d+ bytes without an event \(keep-alive comments/);
        assert.ok((failure.silentMs ?? 0) >= 300, `silent for ${failure.silentMs} ms`);
      },
    );
  });

  it('so are Anthropic ping events', async () => {
    const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event('message_start', { message: { id: 'm', role: 'assistant', content: [] } }));
        every(res, 20, event('ping', {}));
      },
      async (base) => {
        const client = createAnthropicMessages({ baseURL: base, model: 'm', sleep: noSleep, maxRetries: 0, timeoutMs: 300 });
        const failure = failed(await client.complete(ask, { signal: AbortSignal.timeout(10_000) }));
        assert.equal(failure.kind, 'timeout');
      },
    );
  });
});

describe('responses built to be expensive', () => {
  const push = (assembler: ReturnType<typeof openAIChatStream>, data: object): void => assert.equal(assembler.push({ event: '', data: JSON.stringify(data) }), 'more');

  it('40,000 chunks with token ids and logprobs assemble in linear time', () => {
    const stream = openAIChatStream();
    const started = Date.now();
    for (let i = 0; i < 40_000; i++) push(stream, { id: 'c', choices: [{ index: 0, delta: { content: 'x' }, token_ids: [i], logprobs: { content: [{ token: 'x', logprob: -i }] } }] });
    const choice = (stream.body().choices as JsonObject[])[0]!;
    assert.equal((choice.token_ids as number[]).length, 40_000);
    assert.equal(((choice.logprobs as JsonObject).content as JsonValue[]).length, 40_000);
    assert.equal((choice.token_ids as number[])[39_999], 39_999);
    // Copying both lists on every chunk took over 20 s.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('40,000 streamed tool calls assemble in linear time, each continued by its index', () => {
    const stream = openAIChatStream();
    const started = Date.now();
    push(stream, { id: 'c', choices: [{ index: 0, delta: { role: 'assistant' } }] });
    for (let i = 0; i < 40_000; i++) {
      push(stream, { id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: i, id: `t${i}`, type: 'function', function: { name: 'f', arguments: '' } }] } }] });
      push(stream, { id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: `{"n":${i}}` } }] } }] });
    }
    const calls = ((stream.body().choices as JsonObject[])[0]!.message as JsonObject).tool_calls as JsonObject[];
    assert.equal(calls.length, 40_000);
    assert.deepEqual(calls[12_345], { index: 12_345, id: 't12345', type: 'function', function: { name: 'f', arguments: '{"n":12345}' } });
    // A search of every earlier call for each delta took about 15 s.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('Anthropic content blocks with huge or out-of-order indexes are kept, in index order, without a walk over the gap', () => {
    const stream = anthropicMessagesStream();
    const event = (type: string, data: object) => stream.push({ event: type, data: JSON.stringify({ type, ...data }) });
    const started = Date.now();
    event('message_start', { message: { id: 'm', role: 'assistant', content: [] } });
    // 1e15 is no array index: such a block was dropped. 4e9 made body() walk four billion holes.
    for (const [index, text] of [[1e15, 'third'], [4_000_000_000, 'second'], [0, 'first']] as const) {
      assert.equal(event('content_block_start', { index, content_block: { type: 'text', text: '' } }), 'more');
      assert.equal(event('content_block_delta', { index, delta: { type: 'text_delta', text } }), 'more');
    }
    assert.equal(event('message_stop', {}), 'done');
    assert.deepEqual(stream.body().content, [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }, { type: 'text', text: 'third' }]);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });

  for (const streamed of [false, true]) {
    it(`JSON nested ${MAX_RESPONSE_DEPTH * 200} levels deep is a malformed response naming where (${streamed ? 'streamed' : 'whole'}), not a stack overflow later`, async () => {
      const deep = `${'['.repeat(MAX_RESPONSE_DEPTH * 200)}${']'.repeat(MAX_RESPONSE_DEPTH * 200)}`;
      await withServer(
        (res) => {
          if (streamed) {
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.end(`data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"hi","extra":${deep}}}]}\n\n${chunk({}, { finish_reason: 'stop' })}data: [DONE]\n\n`);
          } else {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(`{"choices":[{"index":0,"message":{"role":"assistant","content":"hi","extra":${deep}},"finish_reason":"stop"}]}`);
          }
        },
        async (base) => {
          const failure = failed(await openai(base, { stream: streamed }).complete(ask, { signal }));
          assert.deepEqual([failure.kind, failure.retryable], ['malformed_response', false]);
          assert.match(failure.message, new RegExp(`nests deeper than ${MAX_RESPONSE_DEPTH} levels \\(at \\.choices\\[0\\]\\.message\\.extra\\[0\\]\\[0\\]`));
          // What is recorded can be serialised (the body itself could not be).
          assert.equal(JSON.parse(JSON.stringify(failure.wire)).status, 200);
        },
      );
    });
  }
});

describe('numbers the stored record cannot hold', () => {
  it('usage and token ids that are negative, fractional or past 2^53 are left out, so the call can be read back', () => {
    const bogus = { input_tokens: -5, output_tokens: 1.5, cache_read_input_tokens: 1e300 };
    const anthropic = parseMessagesResponse({ id: 'm', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: bogus });
    assert.ok(anthropic.ok);
    assert.deepEqual(anthropic.response.usage, {});
    const openai = parseChatCompletion({
      id: 'c',
      prompt_token_ids: [1, 2, 1e300],
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, token_ids: [3, -4], finish_reason: 'stop' }],
      usage: { prompt_tokens: 1e300, completion_tokens: 2, completion_tokens_details: { reasoning_tokens: -1 } },
    });
    assert.ok(openai.ok);
    assert.deepEqual(openai.response.usage, { completionTokens: 2 });
    assert.deepEqual(openai.response.tokens, { source: 'engine', completionIds: [3, -4] });
    // What the store checks when it reads the call back.
    for (const parsed of [anthropic, openai]) assert.ok(Usage.safeParse(parsed.response.usage).success);
    assert.ok(TokenTrace.safeParse(openai.response.tokens).success);
  });

  it('tool-call arguments nested past 256 levels are a malformed call with its text kept, so the record reads back', () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const completion = (args: string) =>
      parseChatCompletion({ id: 'c', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'x', arguments: args } }] }, finish_reason: 'tool_calls' }] });
    const deep = completion(nested(2000));
    assert.ok(deep.ok);
    const [call] = deep.response.message.toolCalls;
    assert.equal(call?.arguments, null);
    assert.equal(call?.argumentsText, nested(2000));
    assert.match(call?.parseError ?? '', /more than 256 levels deep/);
    // Validating the call, as the store does when it reads it back, no longer overflows the stack.
    assert.ok(ToolCall.safeParse(call).success);
    const shallow = completion(nested(200));
    assert.ok(shallow.ok);
    assert.equal(shallow.response.message.toolCalls[0]?.parseError, undefined);
  });
});

describe('waiting to retry', () => {
  it('a real sleep the caller ends leaves no timer behind to hold the process open', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    const controller = new AbortController();
    const sleeping = realSleep(60_000, controller.signal);
    assert.equal(timers(), before + 1);
    controller.abort();
    assert.equal(timers(), before, 'the 60 s timer is cleared at once');
    await sleeping;
  });
});

describe('Retry-After that is not a number or an HTTP-date', () => {
  it('is ignored (the usual backoff applies) rather than read by Date.parse as a date in the past', () => {
    const clock = { now: Date.parse('2026-10-21T07:28:00Z'), capMs: 60_000 };
    const wait = (value: string) => retryAfterMs({ header: (name) => (name === 'retry-after' ? value : undefined) }, clock);
    for (const value of ['-5', '3, 4', '.5', '1.', '1e12', 'Infinity', 'soon']) assert.equal(wait(value), undefined, value);
    assert.equal(wait('1.5'), 1500);
    assert.equal(wait('Wed, 21 Oct 2026 07:28:13 GMT'), 13_000);
    assert.equal(wait('Wednesday, 21-Oct-26 07:28:13 GMT'), 13_000);
    assert.equal(typeof wait('Wed Oct 21 07:28:13 2026'), 'number', 'the asctime form (local time)');
    assert.equal(wait('Tue, 20 Oct 2026 07:28:00 GMT'), 0, 'a date in the past: at once');
  });
});
