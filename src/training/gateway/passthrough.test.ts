import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toolWalkPolicy } from '../fake-engine/index.ts';
import { gatewayBaseUrl, RECORDED_HEADER } from './index.ts';
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
