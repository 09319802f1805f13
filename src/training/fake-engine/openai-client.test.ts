import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming, ChatCompletionTool } from 'openai/resources/chat/completions';
import { scriptPolicy } from './policy.ts';
import { startFakeEngine, type FakeEngine } from './server.ts';
import { TOOLS } from './test-support.ts';

// The official client, pointed at the fake engine, must see a normal server: completions, tool
// calls, streams it can assemble, and vLLM's extra fields where verifiers reads them.

const SCRIPT = {
  turns: [
    { reasoning: 'Two files to read.', toolCalls: [{ name: 'read_file', arguments: { path: 'a.ts' } }, { name: 'run_command', arguments: { cmd: 'npm test', timeout_s: 60 } }] },
    { reasoning: 'Both are fine.', content: 'All good: nothing to fix.' },
  ],
};
const tools = TOOLS as ChatCompletionTool[];
const USER = { role: 'user' as const, content: 'Check a.ts and run the tests.' };

/** vLLM-only request fields travel in the body, as `extra_body` does in the Python client. */
const VLLM_FIELDS = { return_token_ids: true } as Record<string, unknown>;

describe('the official openai client against the fake engine', () => {
  let engine: FakeEngine;
  let client: OpenAI;
  before(async () => {
    engine = await startFakeEngine({ policy: scriptPolicy(SCRIPT), model: 'fake-qwen' });
    client = new OpenAI({ baseURL: engine.url, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => engine.close());

  it('lists the served model', async () => {
    const page = await client.models.list();
    assert.deepEqual(page.data.map((model) => model.id), ['fake-qwen']);
  });

  it('gets tool calls with ids and JSON arguments, plus vLLM\'s token fields', async () => {
    const params = { model: 'fake-qwen', messages: [USER], tools, logprobs: true, ...VLLM_FIELDS } as ChatCompletionCreateParamsNonStreaming;
    const completion = await client.chat.completions.create(params);
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    const calls = choice.message.tool_calls ?? [];
    assert.deepEqual(
      calls.map((call) => (call.type === 'function' ? [call.function.name, JSON.parse(call.function.arguments)] : [])),
      [
        ['read_file', { path: 'a.ts' }],
        ['run_command', { cmd: 'npm test', timeout_s: 60 }],
      ],
    );
    assert.equal(new Set(calls.map((call) => call.id)).size, 2);
    const raw = completion as unknown as { prompt_token_ids: number[]; choices: { token_ids: number[]; message: { reasoning: string } }[] };
    assert.ok(raw.prompt_token_ids.length > 100);
    assert.equal(raw.choices[0]!.token_ids.length, completion.usage!.completion_tokens);
    assert.equal(raw.choices[0]!.message.reasoning, 'Two files to read.');
    assert.equal(choice.logprobs!.content!.length, raw.choices[0]!.token_ids.length);
  });

  it('keeps only the first call when parallel_tool_calls is false, as vLLM filters it', async () => {
    const completion = await client.chat.completions.create({ model: 'fake-qwen', messages: [USER], tools, parallel_tool_calls: false });
    assert.deepEqual(completion.choices[0]!.message.tool_calls?.map((call) => (call.type === 'function' ? call.function.name : '')), ['read_file']);
  });

  it('gets a normal completion on the next turn', async () => {
    const first = await client.chat.completions.create({ model: 'fake-qwen', messages: [USER], tools });
    const message = first.choices[0]!.message;
    const results = (message.tool_calls ?? []).map((call) => ({ role: 'tool' as const, tool_call_id: call.id, content: 'ok' }));
    const second = await client.chat.completions.create({ model: 'fake-qwen', messages: [USER, message, ...results], tools });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    assert.equal(second.choices[0]!.message.content, 'All good: nothing to fix.');
    assert.deepEqual(second.choices[0]!.message.tool_calls, []);
  });

  it('streams tool calls the client assembles, with token ids on the chunks', async () => {
    const params = { model: 'fake-qwen', messages: [USER], tools, stream: true, stream_options: { include_usage: true }, ...VLLM_FIELDS } as ChatCompletionCreateParamsStreaming;
    const stream = await client.chat.completions.create(params);
    const ids: number[] = [];
    let promptIds: number[] | undefined;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const raw = chunk as unknown as { prompt_token_ids?: number[] | null; choices: { token_ids?: number[] | null }[] };
      promptIds ??= raw.prompt_token_ids ?? undefined;
      for (const choice of raw.choices) ids.push(...(choice.token_ids ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(finish, 'tool_calls');
    assert.ok(promptIds && promptIds.length === usage?.prompt_tokens);
    assert.equal(ids.length, usage?.completion_tokens);

    const helper = client.chat.completions.stream({ model: 'fake-qwen', messages: [USER], tools });
    const final = await helper.finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls ?? [];
    assert.deepEqual(
      calls.map((call) => (call.type === 'function' ? call.function.name : '')),
      ['read_file', 'run_command'],
    );
    assert.deepEqual(calls.map((call) => (call.type === 'function' ? JSON.parse(call.function.arguments) : null))[1], { cmd: 'npm test', timeout_s: 60 });
  });

  it('streams a plain answer as content deltas', async () => {
    const first = await client.chat.completions.create({ model: 'fake-qwen', messages: [USER], tools });
    const message = first.choices[0]!.message;
    const results = (message.tool_calls ?? []).map((call) => ({ role: 'tool' as const, tool_call_id: call.id, content: 'ok' }));
    const stream = await client.chat.completions.create({ model: 'fake-qwen', messages: [USER, message, ...results], tools, stream: true });
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    assert.equal(content, 'All good: nothing to fix.');
  });

  it('surfaces a bad request as the client\'s BadRequestError with vLLM\'s message', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'fake-qwen', messages: [], tools }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /messages: expected at least one message/);
      return true;
    });
  });
});
