import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scriptPolicy } from './policy.ts';
import { startFakeEngine, type FakeEngine } from './server.ts';
import { post, TOOLS, type ErrorBody } from './test-support.ts';

const USER = [{ role: 'user', content: 'hi' }];

describe('bad requests', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: scriptPolicy({ turns: [{ content: 'Hello.' }] }), maxModelLen: 256 });
  });
  after(() => engine.close());

  /** Posts `body` and checks for vLLM's error shape with this status, field and message. */
  async function rejects(path: string, body: unknown, expected: { status?: number; param: string | null; message: RegExp }): Promise<void> {
    const reply = await post(engine, path, body);
    assert.equal(reply.status, expected.status ?? 400, reply.text);
    const error = (reply.json as ErrorBody).error;
    assert.deepEqual(Object.keys(error), ['message', 'type', 'param', 'code']);
    assert.equal(error.code, expected.status ?? 400);
    assert.equal(error.type, (expected.status ?? 400) === 404 ? 'NotFoundError' : 'BadRequestError');
    assert.equal(error.param, expected.param);
    assert.match(error.message, expected.message);
  }

  it('answers 400 naming the field for chat bodies of the wrong shape', async () => {
    await rejects('/v1/chat/completions', '{"messages": [', { param: null, message: /not valid JSON/ });
    await rejects('/v1/chat/completions', {}, { param: 'messages', message: /messages: expected an array of messages/ });
    await rejects('/v1/chat/completions', { messages: [] }, { param: 'messages', message: /at least one message/ });
    await rejects('/v1/chat/completions', { messages: [{ role: 'robot', content: 'x' }] }, { param: 'messages.0.role', message: /messages\.0\.role: expected one of system\|developer\|user\|assistant\|tool/ });
    await rejects('/v1/chat/completions', { messages: [{ role: 'user', content: 42 }] }, { param: 'messages.0.content', message: /messages\.0\.content: expected a string, a list of content parts or null/ });
    await rejects('/v1/chat/completions', { messages: USER, tools: [{ type: 'function', function: { description: 'no name' } }] }, { param: 'tools.0.function.name', message: /tools\.0\.function\.name/ });
    await rejects('/v1/chat/completions', { messages: USER, max_tokens: 0 }, { param: 'max_tokens', message: /max_tokens: expected at least 1/ });
    await rejects('/v1/chat/completions', { messages: USER, n: 2 }, { param: 'n', message: /one choice per request/ });
    await rejects('/v1/chat/completions', { messages: USER, stream: 'yes' }, { param: 'stream', message: /stream/ });
    await rejects('/v1/chat/completions', { messages: USER, response_format: { type: 'json_object' } }, { param: 'response_format.type', message: /structured outputs .* are not supported/ });
    await rejects('/v1/chat/completions', { messages: USER, echo: true }, { param: 'echo', message: /echo is not supported/ });
  });

  it('answers 400 for requests vLLM refuses: option combinations, tool choices, unreadable history', async () => {
    await rejects('/v1/chat/completions', { messages: USER, top_logprobs: 2 }, { param: 'top_logprobs', message: /`logprobs` must be set to true/ });
    await rejects('/v1/chat/completions', { messages: USER, stream_options: { include_usage: true } }, { param: 'stream_options', message: /only be defined when `stream=True`/ });
    await rejects('/v1/chat/completions', { messages: USER, tool_choice: 'auto' }, { param: 'tool_choice', message: /`tools` must be set/ });
    await rejects('/v1/chat/completions', { messages: USER, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }, { param: 'tool_choice', message: /"nope"\) does not match/ });
    await rejects('/v1/chat/completions', { messages: USER, chat_template: '{{ messages }}' }, { param: 'chat_template', message: /untrusted chat template/ });
    const badArgs = [...USER, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"path": ' } }] }];
    await rejects('/v1/chat/completions', { messages: badArgs }, { param: 'messages.1.tool_calls.0.function.arguments', message: /messages\.1\.tool_calls\.0\.function\.arguments: not valid JSON/ });
    await rejects('/v1/chat/completions', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, { param: 'messages.0.content.0.type', message: /text only/ });
  });

  it('answers 400 when the prompt or the budget does not fit the context, with vLLM\'s wording', async () => {
    await rejects('/v1/chat/completions', { messages: [{ role: 'user', content: 'word '.repeat(300) }] }, { param: 'messages', message: /maximum context length is 256 tokens\. However, your request has \d+ input tokens/ });
    await rejects('/v1/chat/completions', { messages: USER, max_tokens: 250 }, { param: 'max_tokens', message: /'max_tokens' is too large: 250/ });
  });

  it('answers 404 for another model name and for unknown routes', async () => {
    await rejects('/v1/chat/completions', { model: 'gpt-4o', messages: USER }, { status: 404, param: 'model', message: /The model `gpt-4o` does not exist/ });
    await rejects('/v1/responses', { input: 'hi' }, { status: 404, param: null, message: /no route POST \/v1\/responses; the fake engine serves .*POST \/v1\/chat\/completions/ });
  });

  it('answers a request past the end of the script with a 400 naming the turn, and keeps serving', async () => {
    const history = [...USER, { role: 'assistant', content: 'Hello.' }, { role: 'user', content: 'again' }];
    await rejects('/v1/chat/completions', { messages: history }, { param: 'messages', message: /script policy: .*the script has 1 turn and this request asks for turn 2/ });
    const ok = await post(engine, '/v1/chat/completions', { messages: USER });
    assert.equal(ok.status, 200);
  });

  it('answers 400 naming the field for bad completions, tokenize and detokenize bodies', async () => {
    await rejects('/v1/completions', { prompt: [[1, 2]] }, { param: 'prompt', message: /one prompt per request/ });
    await rejects('/v1/completions', { prompt: 'x', stream: true }, { param: 'stream', message: /without streaming/ });
    await rejects('/v1/completions', { prompt: [1, 999_999] }, { param: 'prompt.1', message: /Token id 999999 is out of vocabulary/ });
    await rejects('/tokenize', { prompt: 7 }, { param: 'prompt', message: /prompt: expected the prompt text/ });
    await rejects('/tokenize', { messages: [{ role: 'user' }], add_generation_prompt: true, continue_final_message: true }, { param: 'continue_final_message', message: /Cannot set both/ });
    await rejects('/detokenize', { tokens: [1.5] }, { param: 'tokens.0', message: /token ids \(integers\)/ });
    await rejects('/detokenize', { tokens: [151_669] }, { param: 'tokens.0', message: /out of vocabulary/ });
    // Half a surrogate pair has no UTF-8 form: the engine's tokenizer refuses it, as vLLM does with a 400.
    await rejects('/tokenize', { prompt: 'cut mid-emoji \ud83d' }, { param: null, message: /surrogate/ });
  });
});
