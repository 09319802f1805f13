import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { JsonValue } from '../../core/index.ts';
import { startFakeEngine, toolWalkPolicy, type FakeEngine } from '../fake-engine/index.ts';
import { gatewayBaseUrl, RECORDED_BY_HEADER, startGateway, type Gateway } from './index.ts';
import { attachMemory, CHAT_TOOLS, postJson, sseData } from './test-support.ts';

// Engines other than vLLM, played by the fake engine behind a fetch that reshapes its answers:
// SGLang (prompt ids per choice, reasoning_content, token ids only without streaming, token fields
// absent unless asked), and a completions route that streams.

type Json = Record<string, JsonValue>;

/** Drops the token fields a request did not ask for, as SGLang leaves them out. */
function withoutUnasked(body: Json): Json {
  const { prompt_token_ids: promptIds, ...top } = body;
  const choices = (top.choices as Json[]).map((choice) => {
    const { token_ids: ids, ...rest } = choice;
    return { ...rest, ...(ids !== null ? { token_ids: ids, prompt_token_ids: promptIds ?? null } : {}) };
  });
  return { ...top, choices };
}

/** The fake engine (reasoning_content already) in SGLang's shapes, plus a streaming /v1/completions. */
function shim(log: Json[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith('/models')) return Response.json({ object: 'list', data: [{ id: 'fake-qwen', object: 'model', owned_by: 'sglang' }] });
    const body = JSON.parse(String(init?.body)) as Json;
    log.push(body);
    if (url.pathname.endsWith('/chat/completions')) {
      if (body.stream === true && body.return_token_ids === true) return Response.json({ object: 'error', message: 'return_token_ids is only supported without streaming', code: 400 }, { status: 400 });
      const response = await fetch(input, init);
      if (!response.ok || body.stream === true) return response;
      return Response.json(withoutUnasked((await response.json()) as Json));
    }
    // Completions: ask the engine for the whole answer and stream it in two chunks.
    const response = await fetch(input, { ...init, body: JSON.stringify({ ...body, stream: false }) });
    if (!response.ok || body.stream !== true) return response;
    const whole = (await response.json()) as Json;
    const choice = (whole.choices as Json[])[0]!;
    const half = Math.ceil((choice.text as string).length / 2);
    const ids = (choice.token_ids as number[] | null) ?? null;
    const lp = choice.logprobs as { tokens: string[]; token_logprobs: number[]; top_logprobs: unknown; text_offset: number[] } | null;
    const cut = ids ? Math.ceil(ids.length / 2) : 0;
    const part = (from: number, to: number | undefined): Json | null => (lp ? { tokens: lp.tokens.slice(from, to), token_logprobs: lp.token_logprobs.slice(from, to), top_logprobs: null, text_offset: lp.text_offset.slice(from, to) } : null);
    const chunks = [
      { ...whole, choices: [{ ...choice, text: (choice.text as string).slice(0, half), token_ids: ids ? ids.slice(0, cut) : null, logprobs: part(0, cut), finish_reason: null }], usage: null },
      { ...whole, choices: [{ ...choice, text: (choice.text as string).slice(half), token_ids: ids ? ids.slice(cut) : null, logprobs: part(cut, undefined), prompt_token_ids: null }] },
    ];
    return new Response(`${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`, { headers: { 'content-type': 'text/event-stream' } });
  };
}

function sameIds(text: string): string {
  return text.replace(/"(chatcmpl|cmpl)-[0-9a-f]{32}"/g, '"$1-ID"');
}

describe('an SGLang upstream', () => {
  let engine: FakeEngine;
  let gateway: Gateway;
  const sent: Json[] = [];
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 2 }), reasoningField: 'reasoning_content', model: 'fake-qwen', now: () => 1_760_000_000 });
    gateway = await startGateway({ upstream: engine.url, fetch: shim(sent) });
  });
  after(async () => {
    await gateway.close();
    await engine.close();
  });

  const messages = [{ role: 'user', content: 'The build fails in src/parser.ts.' }];

  it('is recognised from /models, asked with its own fields, and the answer comes back without them', async () => {
    const { recorder } = attachMemory(gateway, 'ro_sglang');
    const body = { model: 'fake-qwen', messages, tools: CHAT_TOOLS };
    const via = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_sglang')}/chat/completions`, body);
    assert.equal(gateway.stats().engine.resolved, 'sglang');
    assert.equal(sent.at(-1)!.return_prompt_token_ids, true);
    const direct = await postJson(`${engine.url}/chat/completions`, body);
    assert.equal(sameIds(via.text), sameIds(JSON.stringify(withoutUnasked(JSON.parse(direct.text) as Json))));
    const tokens = recorder.calls[0]!.response!.tokens!;
    assert.ok(tokens.promptIds!.length > 0 && tokens.completionIds!.length === tokens.completionLogprobs!.length);
  });

  it('a streaming client gets the whole answer replayed as a stream (SGLang gives chat ids only without one), recorded with tokens', async () => {
    const { recorder } = attachMemory(gateway, 'ro_sglang_stream');
    const via = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_sglang_stream')}/chat/completions`, { model: 'fake-qwen', messages, tools: CHAT_TOOLS, stream: true, stream_options: { include_usage: true } });
    assert.equal(sent.at(-1)!.stream, false, 'asked without streaming');
    assert.equal('stream_options' in sent.at(-1)!, false);
    const chunks = sseData(via.text);
    assert.equal(chunks.at(-1), '[DONE]');
    const events = chunks.filter((c): c is Json => c !== '[DONE]');
    assert.ok(events.every((c) => !('prompt_token_ids' in c) && (c.choices as Json[]).every((choice) => !('token_ids' in choice) && !('prompt_token_ids' in choice) && choice.logprobs === null)), 'no token fields reach the client');
    const calls = (events.flatMap((c) => (c.choices as Json[]).map((choice) => choice.delta)) as Json[]).flatMap((d) => (d?.tool_calls as Json[] | undefined) ?? []);
    assert.ok(calls.length > 0 && (events.at(-1)!.usage as Json).completion_tokens !== undefined);
    const call = recorder.calls[0]!;
    assert.ok(call.response!.tokens!.completionIds!.length > 0);
    assert.equal(call.response!.message.toolCalls.length, calls.length);
    assert.equal((call.wire!.response as { gauntlet_stream: { replayed: boolean } }).gauntlet_stream.replayed, true);
  });

  it('the Responses API streams through the replay too', async () => {
    attachMemory(gateway, 'ro_sglang_responses');
    const openai = new OpenAI({ baseURL: gatewayBaseUrl(gateway.url, 'ro_sglang_responses'), apiKey: 'unused', maxRetries: 0 });
    const response = await openai.responses.stream({ model: 'fake-qwen', input: 'The build fails in src/parser.ts.', tools: [{ type: 'function', name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } }, strict: false }] }).finalResponse();
    assert.deepEqual(response.output.map((item) => item.type), ['reasoning', 'function_call']);
  });

  it('a client that records tokens itself gets them in vLLM\'s shape (prompt ids top-level)', async () => {
    const reply = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'fake-qwen', messages }, { [RECORDED_BY_HEADER]: 'client' });
    const body = JSON.parse(reply.text) as { prompt_token_ids: number[]; choices: { token_ids: number[] }[] };
    assert.ok(body.prompt_token_ids.length > 0 && body.choices[0]!.token_ids.length > 0);
  });

  it('streamed completions are relayed chunk by chunk and assembled for the record', async () => {
    const { recorder } = attachMemory(gateway, 'ro_completions_stream');
    const prompt = '<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n';
    const via = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_completions_stream')}/completions`, { model: 'fake-qwen', prompt, max_tokens: 40, stream: true });
    const chunks = sseData(via.text).filter((c): c is Json => c !== '[DONE]');
    assert.equal(chunks.length, 2);
    assert.ok(chunks.every((c) => (c.choices as Json[]).every((choice) => choice.logprobs === null && !('token_ids' in choice))), 'stripped, SGLang-style');
    const call = recorder.calls[0]!;
    const text = chunks.map((c) => (c.choices as Json[])[0]!.text).join('');
    assert.equal(call.response!.message.content, text);
    assert.equal(call.response!.tokens!.completionIds!.length, call.response!.tokens!.completionLogprobs!.length);
    assert.ok(call.response!.tokens!.promptIds!.length > 0);
    assert.deepEqual(call.request.messages, [], 'a raw prompt has no messages; it is in the wire record');
    assert.equal((call.wire!.request as { prompt: string }).prompt, prompt);

    // A prompt that continues the previous prompt and completion extends it.
    await postJson(`${gatewayBaseUrl(gateway.url, 'ro_completions_stream')}/completions`, { model: 'fake-qwen', prompt: `${prompt}${text}<|im_end|>\n<|im_start|>user\nAgain.<|im_end|>\n<|im_start|>assistant\n`, max_tokens: 40 });
    assert.equal(recorder.calls[1]!.extendsParent, true);
  });
});

describe('an upstream that is not up yet when the gateway asks which engine it is', () => {
  it('is asked again on the next call, instead of being taken for vLLM for good', async () => {
    let asked = 0;
    const sent: Json[] = [];
    const warming: typeof fetch = (input, init) => {
      if (new URL(String(input)).pathname.endsWith('/models')) {
        asked++;
        // A server in front of an engine still loading its weights, answering in JSON.
        return Promise.resolve(asked === 1 ? Response.json({ detail: 'Service Unavailable' }, { status: 503 }) : Response.json({ object: 'list', data: [{ id: 'm', owned_by: 'sglang' }] }));
      }
      sent.push(JSON.parse(String(init?.body)) as Json);
      return Promise.resolve(Response.json({ id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
    };
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', fetch: warming });
    const rollout = attachMemory(gateway, 'ro_warming');
    try {
      const url = `${gatewayBaseUrl(gateway.url, 'ro_warming')}/chat/completions`;
      const first = await postJson(url, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(first.status, 502, first.text);
      assert.match(first.text, /could not tell which engine serves .*HTTP 503/);
      assert.equal(sent.length, 0, 'nothing is sent with fields the engine may not read');
      const second = await postJson(url, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(second.status, 200, second.text);
      assert.equal(sent[0]?.return_prompt_token_ids, true, 'asked with SGLang’s fields');
      assert.deepEqual(gateway.stats().engine, { configured: 'auto', resolved: 'sglang', basis: 'GET /models says owned_by "sglang"' });
    } finally {
      rollout.detach();
      await gateway.close();
    }
  });
});
