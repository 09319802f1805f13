import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { ModelResponse, type JsonObject, type JsonValue, type Message, type ModelRequest, type ModelResult, type ToolSpec } from '../core/index.ts';
import { createChatTemplate, loadChatTemplate, loadQwen3Tokenizer } from '../formats/index.ts';
import { createTextCompletionModel } from './text-completion.ts';

const FIXTURES = new URL('../../test/fixtures/formats/', import.meta.url).pathname;
const qwenTemplate = await loadChatTemplate(`${FIXTURES}qwen3-style.jinja`);
const minimaxTemplate = await loadChatTemplate(`${FIXTURES}minimax-m2-style.jinja`);
const signal = new AbortController().signal;
const noSleep = async (): Promise<void> => {};

const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Weather for a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
};

type Reply = { status?: number; json: unknown } | { status?: number; text: string } | 'hang';

/** A /v1/completions server on 127.0.0.1 that answers from a queue and records each body. */
class CompletionServer {
  readonly bodies: JsonObject[] = [];
  readonly replies: Reply[] = [];
  private server: ServerType | undefined;
  private readonly hanging = new Set<() => void>();
  url = '';

  async start(): Promise<void> {
    const app = new Hono();
    app.post('/v1/completions', async (c) => {
      this.bodies.push((await c.req.json()) as JsonObject);
      const reply = this.replies.shift();
      if (reply === undefined) return c.json({ error: { message: 'no reply queued' } }, 500);
      if (reply === 'hang') {
        return new Promise<Response>((resolve) => {
          const release = (): void => {
            this.hanging.delete(release);
            resolve(c.body(null, 503));
          };
          this.hanging.add(release);
        });
      }
      const body = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
      return c.body(body, (reply.status ?? 200) as 200, { 'content-type': 'application/json' });
    });
    this.server = await new Promise<ServerType>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    for (const release of [...this.hanging]) release();
    return new Promise((resolve) => {
      this.server?.close(() => resolve());
      if (this.server && 'closeAllConnections' in this.server) this.server.closeAllConnections();
    });
  }
}

function completion(text: string, extra: JsonObject = {}, finish = 'stop'): { json: JsonValue } {
  return { json: { id: 'cmpl-1', object: 'text_completion', model: 'm', choices: [{ index: 0, text, finish_reason: finish, ...extra }], usage: { prompt_tokens: 10, completion_tokens: 5 } } };
}

function req(messages: Message[], extra?: JsonObject): ModelRequest {
  return { messages, tools: [weather], sampling: { maxTokens: 256, temperature: 0.6, ...(extra ? { extra } : {}) } };
}

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  return ModelResponse.parse(result.response);
}

describe('text-completion model client', () => {
  const server = new CompletionServer();
  before(() => server.start());
  after(() => server.close());

  it('renders the prompt, parses hermes calls, and resends the raw completion byte for byte on the next turn', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'qwen3', template: qwenTemplate, format: 'hermes', sleep: noSleep });
    const raw = '<think>\nNeed the tool.\n</think>\n\nChecking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call>';
    server.replies.push(completion(raw, { token_ids: [1, 2, 3], prompt_token_ids: [7, 8] }));
    const messages: Message[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.complete(req(messages), { signal });
    const reply = ok(first);
    const sent = server.bodies.at(-1) as JsonObject;
    assert.equal(typeof sent.prompt, 'string');
    assert.ok((sent.prompt as string).endsWith('<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n'));
    assert.ok((sent.prompt as string).includes('<tools>\n{"type": "function", "function": {"name": "get_weather"'));
    assert.deepEqual({ max_tokens: sent.max_tokens, temperature: sent.temperature, return_token_ids: sent.return_token_ids }, { max_tokens: 256, temperature: 0.6, return_token_ids: true });
    assert.equal(first.ok && (first.wire?.request as JsonObject).prompt, sent.prompt);
    assert.deepEqual(reply.message.reasoning, { text: 'Need the tool.', source: 'text_format' });
    assert.equal(reply.message.content, 'Checking.');
    assert.deepEqual(reply.message.toolCalls, [{ id: 'call_0', name: 'get_weather', arguments: { city: 'Paris', days: 2 }, argumentsText: '{"city":"Paris","days":2}' }]);
    assert.deepEqual(reply.message.provider, { api: 'text-completion', message: { text: raw, format: 'hermes' } });
    assert.equal(reply.finishReason, 'tool_calls');
    assert.deepEqual(reply.tokens, { source: 'engine', promptIds: [7, 8], completionIds: [1, 2, 3] });
    assert.deepEqual(reply.usage, { promptTokens: 10, completionTokens: 5 });

    server.replies.push(completion('<think>\nDone.\n</think>\n\nIt is sunny.', { token_ids: [4] }));
    messages.push(reply.message, { role: 'tool', toolCallId: 'call_0', name: 'get_weather', content: 'sunny', isError: false });
    const second = ok(await client.complete(req(messages), { signal }));
    const prompt2 = (server.bodies.at(-1) as JsonObject).prompt as string;
    assert.ok(prompt2.startsWith(`${sent.prompt as string}${raw}<|im_end|>\n`), 'the next prompt extends prompt + completion exactly');
    assert.equal(second.message.content, 'It is sunny.');
    assert.equal(second.finishReason, 'stop');
  });

  it('sends token ids when asked, and records them as the prompt ids', async () => {
    const tokenizer = await loadQwen3Tokenizer();
    const client = createTextCompletionModel({ baseURL: server.url, model: 'qwen3', template: qwenTemplate, format: 'hermes', tokenizer, sendTokenIds: true });
    server.replies.push(completion('Hello!', { logprobs: { tokens: ['token_id:9707', 'token_id:0'], token_logprobs: [-0.1, -0.2] } }));
    const reply = ok(await client.complete(req([{ role: 'user', content: 'hi' }]), { signal }));
    const prompt = (server.bodies.at(-1) as JsonObject).prompt;
    assert.ok(Array.isArray(prompt) && prompt.every((id) => Number.isInteger(id)));
    assert.equal(tokenizer.decode(prompt as number[]).endsWith('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n'), true);
    assert.deepEqual(reply.tokens, { source: 'engine', promptIds: prompt, completionIds: [9707, 0], completionLogprobs: [-0.1, -0.2] });
    assert.throws(() => createTextCompletionModel({ baseURL: server.url, model: 'q', template: qwenTemplate, format: 'hermes', sendTokenIds: true }), /sendTokenIds needs a tokenizer/);
  });

  it('reads MiniMax completions that start inside the reasoning block, typing parameters by schema', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'm2', template: minimaxTemplate, format: 'minimax-xml' });
    const raw = 'Look it up.\n</think>\n\n<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Oslo</parameter>\n<parameter name="days">3</parameter>\n</invoke>\n</minimax:tool_call>';
    server.replies.push(completion(raw));
    const messages: Message[] = [{ role: 'user', content: 'Oslo?' }];
    const reply = ok(await client.complete(req(messages), { signal }));
    const prompt = (server.bodies.at(-1) as JsonObject).prompt as string;
    assert.ok(prompt.endsWith(']~b]ai\n<think>\n'));
    assert.equal(reply.message.reasoning?.text, 'Look it up.');
    assert.deepEqual(reply.message.toolCalls[0]?.arguments, { city: 'Oslo', days: 3 });
    server.replies.push(completion('Done.\n</think>\n\nCold.'));
    messages.push(reply.message, { role: 'tool', toolCallId: 'call_0', name: 'get_weather', content: '-3C', isError: false });
    ok(await client.complete(req(messages), { signal }));
    assert.ok(((server.bodies.at(-1) as JsonObject).prompt as string).startsWith(`${prompt}${raw}[e~[\n`), 'the next prompt extends prompt + completion exactly');

    server.replies.push(completion('Still thinking about Oslo', {}, 'length'));
    const cut = ok(await client.complete(req([{ role: 'user', content: 'Oslo?' }]), { signal }));
    assert.equal(cut.message.reasoning?.text, 'Still thinking about Oslo');
    assert.equal(cut.message.content, '');
    assert.equal(cut.finishReason, 'length');
    assert.deepEqual(((cut.message.provider?.message as JsonObject).parseErrors as JsonObject[]).map((e) => e.kind), ['unclosed_block']);
  });

  it('keeps a call whose body is not JSON as text (as vLLM does) and every problem with the turn', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'q', template: qwenTemplate, format: 'hermes' });
    server.replies.push(completion('<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>\n<tool_call>\n{"name": "launch", "arguments": {}}\n</tool_call>'));
    const reply = ok(await client.complete(req([{ role: 'user', content: 'x' }]), { signal }));
    assert.deepEqual(reply.message.toolCalls.map((c) => c.name), ['launch']);
    assert.match(reply.message.content, /^<tool_call>\n\{"name": "get_weather"/);
    const problems = (reply.message.provider?.message as JsonObject).parseErrors as JsonObject[];
    assert.deepEqual(problems.map((p) => [p.kind, p.callIndex]), [['bad_json', undefined], ['unknown_tool', 0]]);
  });

  it('gives a call with string arguments a parseError the model can read', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'q', template: qwenTemplate, format: 'hermes' });
    server.replies.push(completion('<tool_call>\n{"name": "get_weather", "arguments": "{}"}\n</tool_call>'));
    const reply = ok(await client.complete(req([{ role: 'user', content: 'x' }]), { signal }));
    const [call] = reply.message.toolCalls;
    assert.equal(call?.arguments, null);
    assert.match(call?.parseError ?? '', /JSON string/);
  });

  it('applies chat_template_kwargs when rendering and passes the other extra fields through', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'q', template: qwenTemplate, format: 'hermes', templateVars: { enable_thinking: true } });
    server.replies.push(completion('hi'));
    ok(await client.complete(req([{ role: 'user', content: 'x' }], { chat_template_kwargs: { enable_thinking: false }, skip_special_tokens: false }), { signal }));
    const body = server.bodies.at(-1) as JsonObject;
    assert.ok((body.prompt as string).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    assert.equal(body.chat_template_kwargs, undefined);
    assert.equal(body.skip_special_tokens, false);
  });

  it('resends parsed fields, not raw text, to a template that does not split </think> itself', async () => {
    const plain = createChatTemplate('{% for m in messages %}<{{ m.role }}>{{ m.content }}{% if m.tool_calls %}{{ m.tool_calls | length }} call(s){% endif %}{% endfor %}');
    const client = createTextCompletionModel({ baseURL: server.url, model: 'q', template: plain, format: 'hermes' });
    const raw = '<think>\nhmm\n</think>\n\nSure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>';
    server.replies.push(completion(raw), completion('ok'));
    const messages: Message[] = [{ role: 'user', content: 'x' }];
    messages.push(ok(await client.complete(req(messages), { signal })).message);
    ok(await client.complete(req(messages), { signal }));
    assert.equal((server.bodies.at(-1) as JsonObject).prompt, '<user>x<assistant>Sure.1 call(s)');
  });

  it('fails without sending when the template rejects the conversation', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'm2', template: minimaxTemplate, format: 'minimax-xml' });
    const before = server.bodies.length;
    const result = await client.complete(req([{ role: 'user', content: 'x' }, { role: 'system', content: 'late' }]), { signal });
    assert.ok(!result.ok && result.kind === 'http' && !result.retryable);
    assert.match(result.ok ? '' : result.message, /could not be rendered, nothing was sent.*system message may only come first/);
    assert.equal(server.bodies.length, before);
  });

  it('refuses, without sending, a prompt holding half a surrogate pair instead of sending other text than it rendered', async () => {
    const tokenizer = await loadQwen3Tokenizer();
    // A tool result cut in the middle of an emoji: '😀'.slice(0, 1) is a lone high surrogate.
    const messages: Message[] = [{ role: 'user', content: 'go' }, { role: 'tool', toolCallId: 'call_0', name: 'get_weather', content: `sunny ${'😀'.slice(0, 1)}`, isError: false }];
    for (const sendTokenIds of [false, true]) {
      const client = createTextCompletionModel({ baseURL: server.url, model: 'qwen3', template: qwenTemplate, format: 'hermes', tokenizer, sendTokenIds });
      const before = server.bodies.length;
      const result = await client.complete(req(messages), { signal });
      assert.ok(!result.ok && result.kind === 'http' && !result.retryable, `sendTokenIds ${sendTokenIds}`);
      assert.match(result.message, /lone surrogate U\+D83D at character \d+ \(from messages\[1\]\).*nothing was sent/);
      assert.equal(server.bodies.length, before);
    }
  });

  it('reports a completion cut at the engine\'s own default limit (no max_tokens sent) as infrastructure, not as the model truncating', async () => {
    const client = createTextCompletionModel({ baseURL: server.url, model: 'q', template: qwenTemplate, format: 'hermes', maxRetries: 0 });
    const unlimited: ModelRequest = { messages: [{ role: 'user', content: 'x' }], tools: [weather], sampling: {} };
    const cut = (n: number) => ({ json: { choices: [{ index: 0, text: '<think>\nThe user wants', finish_reason: 'length' }], usage: { prompt_tokens: 10, completion_tokens: n } } });
    server.replies.push(cut(16));
    const result = await client.complete(unlimited, { signal });
    assert.ok(!result.ok, 'a cut the model did not cause is no response to score');
    assert.equal(result.kind, 'http');
    assert.equal(result.retryable, false);
    assert.match(result.message, /cut the completion at 16 tokens \(finish_reason "length"\), the default vLLM and SGLang apply: the request set no max_tokens.*--max-tokens N/);
    assert.equal((server.bodies.at(-1) as JsonObject).max_tokens, undefined);
    // With a limit sent (as a field or in extra), the same cut is the model's: output_truncated, scored.
    for (const request of [req([{ role: 'user', content: 'x' }]), { ...unlimited, sampling: { extra: { max_tokens: 16 } } }]) {
      server.replies.push(cut(16));
      assert.equal(ok(await client.complete(request, { signal })).finishReason, 'length');
    }
  });

  it('reports HTTP, malformed, timeout and connection failures with the right retryability', async () => {
    const client = (url = server.url, timeoutMs = 5_000) =>
      createTextCompletionModel({ baseURL: url, model: 'q', template: qwenTemplate, format: 'hermes', maxRetries: 0, timeoutMs });
    const run = (url?: string, timeoutMs?: number) => client(url, timeoutMs).complete(req([{ role: 'user', content: 'x' }]), { signal });
    const cases: [Reply, string, boolean][] = [
      [{ status: 500, json: { error: { message: 'engine down' } } }, 'http', true],
      [{ status: 429, json: { error: { message: 'slow down' } } }, 'http', true],
      [{ status: 400, json: { error: { message: 'prompt too long' } } }, 'http', false],
      [{ json: { choices: [] } }, 'malformed_response', false],
      [{ text: 'not json' }, 'malformed_response', false],
    ];
    for (const [reply, kind, retryable] of cases) {
      server.replies.push(reply);
      const result = await run();
      assert.ok(!result.ok, kind);
      assert.deepEqual([result.kind, result.retryable], [kind, retryable], result.message);
    }
    server.replies.push('hang');
    const slow = await run(server.url, 100);
    assert.deepEqual(slow.ok ? [] : [slow.kind, slow.retryable], ['timeout', true]);
    const refused = await run('http://127.0.0.1:1/v1');
    assert.deepEqual(refused.ok ? [] : [refused.kind, refused.retryable], ['connection', true]);
  });
});
