import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toolWalkPolicy } from '../fake-engine/index.ts';
import { gatewayBaseUrl, RECORDED_HEADER, startGateway, type Gateway } from './index.ts';
import { attachMemory, CHAT_TOOLS, postJson, sseData, startStack, type Stack } from './test-support.ts';

// What a client receives through the gateway is what it receives from the engine directly: the
// gateway asks for token ids and logprobs, records them, and takes them out again unless the
// client asked for them itself. Bodies compare as text (response ids aside, which the engine makes
// random), streams event by event.

const MESSAGES = [
  { role: 'system', content: 'You are a careful coding agent.' },
  { role: 'user', content: 'The build fails in src/parser.ts. Find out why.' },
];

/** Response ids are random per response (as vLLM's); everything else is seeded. */
function sameIds(text: string): string {
  return text.replace(/"(chatcmpl|cmpl)-[0-9a-f]{32}"/g, '"$1-ID"');
}

describe('passthrough fidelity', () => {
  let stack: Stack;
  let rollout: ReturnType<typeof attachMemory>;
  before(async () => {
    stack = await startStack({ policy: toolWalkPolicy({ turns: 2 }), seed: 7 });
    rollout = attachMemory(stack.gateway, 'ro_fidelity');
  });
  after(() => stack.close());

  /** The same request to the engine and through the gateway (as a rollout); both texts, and the gateway's record of it. */
  async function both(path: string, body: Record<string, unknown>) {
    const direct = await postJson(`${stack.engine.url}${path}`, body);
    const before = rollout.recorder.calls.length;
    const via = await postJson(`${gatewayBaseUrl(stack.gateway.url, 'ro_fidelity')}${path}`, body);
    assert.equal(via.status, direct.status, via.text);
    assert.equal(via.headers.get(RECORDED_HEADER), 'true');
    assert.equal(via.headers.get('content-type'), direct.headers.get('content-type'));
    const call = rollout.recorder.calls[before];
    assert.ok(call, 'the call was recorded');
    return { direct: sameIds(direct.text), via: sameIds(via.text), call };
  }

  const cases: [string, string, Record<string, unknown>][] = [
    ['chat, plain', '/chat/completions', { messages: MESSAGES }],
    ['chat with tools', '/chat/completions', { messages: MESSAGES, tools: CHAT_TOOLS }],
    ['chat with tools, asking for logprobs itself', '/chat/completions', { messages: MESSAGES, tools: CHAT_TOOLS, logprobs: true, top_logprobs: 2 }],
    ['chat, asking for token ids itself', '/chat/completions', { messages: MESSAGES, return_token_ids: true }],
    ['completions', '/completions', { prompt: '<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n', max_tokens: 40 }],
    ['completions asking for 2 top logprobs', '/completions', { prompt: '<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n', max_tokens: 40, logprobs: 2 }],
  ];
  for (const [name, path, body] of cases) {
    it(`${name}: the same body, byte for byte, and the engine's tokens recorded`, async () => {
      const { direct, via, call } = await both(path, { model: stack.engine.model, ...body });
      assert.equal(via, direct);
      const tokens = call.response?.tokens;
      assert.ok(tokens && tokens.source === 'engine' && tokens.promptIds!.length > 0 && tokens.completionIds!.length > 0 && tokens.completionLogprobs!.length === tokens.completionIds!.length);
    });
  }

  const streams: [string, Record<string, unknown>][] = [
    ['a chat stream with tools and usage', { messages: MESSAGES, tools: CHAT_TOOLS, stream: true, stream_options: { include_usage: true } }],
    ['a chat stream after a tool turn', { messages: [...MESSAGES, { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path": "src/parser.ts"}' } }] }, { role: 'tool', tool_call_id: 'call_1', content: 'line 41: expected }' }], tools: CHAT_TOOLS, stream: true }],
    ['a chat stream asking for logprobs itself', { messages: MESSAGES, stream: true, logprobs: true }],
    ['a chat stream asking for token ids itself', { messages: MESSAGES, stream: true, return_token_ids: true }],
  ];
  for (const [name, body] of streams) {
    it(`${name}: the same events in the same order, and the engine's tokens recorded`, async () => {
      const { direct, via, call } = await both('/chat/completions', { model: stack.engine.model, ...body });
      assert.deepEqual(sseData(via), sseData(direct));
      assert.equal(via, direct, 'and the same bytes');
      const tokens = call.response?.tokens;
      assert.ok(tokens && tokens.promptIds!.length > 0 && tokens.completionIds!.length === tokens.completionLogprobs!.length && tokens.completionIds!.length > 0);
    });
  }

  it('an engine error comes back as the engine sent it, and is recorded as a failed call', async () => {
    const { direct, via, call } = await both('/chat/completions', { model: 'no-such-model', messages: MESSAGES });
    assert.equal(via, direct);
    assert.equal(call.response, null);
    assert.equal(call.error?.kind, 'http');
    assert.match(call.error!.message, /HTTP 404: The model `no-such-model` does not exist/);
    assert.equal(call.wire?.status, 404);
  });

  it('plain /v1 requests are forwarded untouched and not recorded', async () => {
    const before = rollout.recorder.calls.length;
    const body = { model: stack.engine.model, messages: MESSAGES, tools: CHAT_TOOLS };
    const direct = await postJson(`${stack.engine.url}/chat/completions`, body);
    const via = await postJson(`${stack.gateway.url}/v1/chat/completions`, body);
    assert.equal(sameIds(via.text), sameIds(direct.text));
    assert.equal(via.headers.get(RECORDED_HEADER), 'false');
    const models = await fetch(`${stack.gateway.url}/v1/models`);
    assert.equal(models.status, 200);
    assert.equal(models.headers.get(RECORDED_HEADER), 'false');
    assert.equal(((await models.json()) as { data: { id: string }[] }).data[0]!.id, stack.engine.model);
    assert.equal(rollout.recorder.calls.length, before);
  });
});

describe('the request the engine receives', () => {
  const ANSWER = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, logprobs: { content: [{ token: 'ok', logprob: -0.1, bytes: [111, 107], top_logprobs: [] }] }, finish_reason: 'stop', token_ids: [5] }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    prompt_token_ids: [1, 2, 3],
  };

  /** A gateway whose upstream keeps the text of each body it is sent. */
  async function capturing(): Promise<{ gateway: Gateway; sent: string[] }> {
    const sent: string[] = [];
    const upstream: typeof fetch = (_input, init) => {
      sent.push(String(init?.body));
      return Promise.resolve(Response.json(ANSWER));
    };
    return { gateway: await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', fetch: upstream }), sent };
  }

  it('is the client body as the client wrote it, with the capture fields added: numbers JSON cannot hold exactly pass unchanged', async () => {
    const { gateway, sent } = await capturing();
    try {
      const rollout = attachMemory(gateway, 'ro_exact');
      // A 64-bit seed: read into a JS number it would be rounded to 18446744073709552000.
      const body = '{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":18446744073709551557,"temperature":1.0}';
      const answer = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_exact')}/chat/completions`, body);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(sent[0], '{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":18446744073709551557,"temperature":1.0,"logprobs":true,"return_token_ids":true}');
      assert.deepEqual(rollout.recorder.calls[0]?.response?.tokens, { source: 'engine', promptIds: [1, 2, 3], completionIds: [5], completionLogprobs: [-0.1] });
    } finally {
      await gateway.close();
    }
  });

  it('takes the capture fields in place of the same fields the client set', async () => {
    const { gateway, sent } = await capturing();
    try {
      attachMemory(gateway, 'ro_fields');
      const answer = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_fields')}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }], logprobs: false });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(sent[0], '{"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":true,"return_token_ids":true}');
      assert.equal((JSON.parse(answer.text) as { choices: { logprobs: unknown }[] }).choices[0]!.logprobs, null, 'the client asked for none');
    } finally {
      await gateway.close();
    }
  });
});
