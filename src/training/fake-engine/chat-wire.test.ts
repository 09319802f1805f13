import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadChatTemplate, loadQwen3Tokenizer, type ChatMessage, type ChatTool } from '../../formats/index.ts';
import { scriptPolicy } from './policy.ts';
import { startFakeEngine, type FakeEngine } from './server.ts';
import { chat, post, sseData, TOOLS, type ChatBody } from './test-support.ts';
import { shippedQwen3Dir } from './tokens.ts';

// Field-by-field checks of /v1/chat/completions against vLLM's shapes, with an independent
// reference: the formats module's template renderer and the packaged Qwen3 tokenizer.

const NOW = 1_767_225_600;
const reference = {
  tokenizer: await loadQwen3Tokenizer(),
  template: await loadChatTemplate(join(shippedQwen3Dir(), 'tokenizer_config.json')),
};

const SCRIPT = {
  turns: [
    { reasoning: 'I need the file first.', content: 'Reading it.', toolCalls: [{ name: 'read_file', arguments: { path: 'src/a.ts', start_line: 3 } }] },
    { reasoning: 'Line 3 has the bug — «fixed».', content: 'The bug is on line 3. 🐛' },
  ],
};
const FIRST: ChatMessage[] = [
  { role: 'system', content: 'You are a careful coding agent.' },
  { role: 'user', content: 'Why does src/a.ts fail?' },
];
const FIRST_COMPLETION =
  '<think>\nI need the file first.\n</think>\n\nReading it.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "src/a.ts", "start_line": 3}}\n</tool_call><|im_end|>';

function referencePromptIds(messages: readonly ChatMessage[], tools?: readonly ChatTool[], vars: Record<string, unknown> = {}): number[] {
  const rendered = reference.template.render({ messages, ...(tools ? { tools } : {}), addGenerationPrompt: true, vars });
  assert.ok(rendered.ok);
  return reference.tokenizer.encode(rendered.text, { addSpecialTokens: false });
}

describe('POST /v1/chat/completions', () => {
  let engine: FakeEngine;
  let contextEngine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: scriptPolicy(SCRIPT), seed: 11, now: () => NOW });
    contextEngine = await startFakeEngine({ policy: scriptPolicy(SCRIPT), reasoningField: 'reasoning_content', now: () => NOW });
  });
  after(async () => {
    await engine.close();
    await contextEngine.close();
  });
  const request = { model: 'Qwen/Qwen3-8B', messages: FIRST, tools: TOOLS, logprobs: true, top_logprobs: 3, return_token_ids: true };

  it('answers a tool-calling turn in vLLM\'s non-streamed shape, field by field', async () => {
    const reply = await post(engine, '/v1/chat/completions', request);
    assert.equal(reply.status, 200);
    assert.match(reply.contentType, /^application\/json/);
    const body = reply.json as ChatBody;
    assert.deepEqual(Object.keys(body), ['id', 'object', 'created', 'model', 'choices', 'service_tier', 'system_fingerprint', 'usage', 'prompt_logprobs', 'prompt_token_ids', 'kv_transfer_params']);
    assert.match(body.id, /^chatcmpl-[0-9a-f]{32}$/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.created, NOW);
    assert.equal(body.model, 'Qwen/Qwen3-8B');
    assert.equal(body.choices.length, 1);
    const choice = body.choices[0]!;
    assert.deepEqual(Object.keys(choice), ['index', 'message', 'logprobs', 'finish_reason', 'stop_reason', 'token_ids']);
    assert.equal(choice.index, 0);
    assert.deepEqual(Object.keys(choice.message), ['role', 'content', 'refusal', 'annotations', 'audio', 'function_call', 'tool_calls', 'reasoning']);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, 'Reading it.');
    assert.equal(choice.message.reasoning, 'I need the file first.');
    assert.equal(choice.message.refusal, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0]!;
    assert.match(call.id, /^chatcmpl-tool-[0-9a-f]{32}$/);
    assert.equal(call.type, 'function');
    assert.deepEqual(call.function, { name: 'read_file', arguments: '{"path": "src/a.ts", "start_line": 3}' });
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.stop_reason, null);
    assert.deepEqual(body.prompt_token_ids, referencePromptIds(FIRST, TOOLS));
    assert.equal(reference.tokenizer.decode(choice.token_ids!), FIRST_COMPLETION);
    assert.deepEqual(choice.token_ids, reference.tokenizer.encode(FIRST_COMPLETION, { addSpecialTokens: false }));
    assert.deepEqual(body.usage, { prompt_tokens: body.prompt_token_ids!.length, total_tokens: body.prompt_token_ids!.length + choice.token_ids!.length, completion_tokens: choice.token_ids!.length, prompt_tokens_details: null });
    assert.equal(body.prompt_logprobs, null);
    assert.equal(body.kv_transfer_params, null);
  });

  it('gives one logprob entry per completion id: its text, bytes, a plausible value and the top alternatives', async () => {
    const body = await chat(engine, request);
    const ids = body.choices[0]!.token_ids!;
    const entries = body.choices[0]!.logprobs!.content;
    assert.equal(entries.length, ids.length);
    entries.forEach((entry, i) => {
      assert.equal(entry.token, reference.tokenizer.decode([ids[i]!]));
      assert.deepEqual(entry.bytes, [...Buffer.from(entry.token, 'utf8')]);
      assert.ok(entry.logprob < 0 && entry.logprob > -3.1, `logprob ${entry.logprob} at ${i}`);
      assert.equal(entry.top_logprobs.length, 3);
      assert.deepEqual(entry.top_logprobs[0], { token: entry.token, logprob: entry.logprob, bytes: entry.bytes });
      const [, second, third] = entry.top_logprobs;
      assert.ok(second!.logprob > third!.logprob);
      assert.notEqual(second!.token, third!.token);
    });
    assert.ok(entries.some((entry) => entry.logprob > -0.01) && entries.some((entry) => entry.logprob < -0.5), 'mostly confident, with a tail');
  });

  it('answers the same request with the same body every time, apart from the response id', async () => {
    const [a, b] = await Promise.all([chat(engine, request), chat(engine, request)]);
    assert.notEqual(a.id, b.id);
    assert.deepEqual({ ...a, id: '' }, { ...b, id: '' });
  });

  it('streams the same answer: prompt ids first, each id with its delta, tool calls by index, usage, [DONE]', async () => {
    const whole = await chat(engine, request);
    const reply = await post(engine, '/v1/chat/completions', { ...request, stream: true, stream_options: { include_usage: true } });
    assert.equal(reply.status, 200);
    assert.match(reply.contentType, /^text\/event-stream/);
    const events = sseData(reply.text);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1) as Record<string, unknown>[];
    const [first, ...rest] = chunks;
    const usage = rest.pop()!;
    assert.deepEqual(Object.keys(first!), ['id', 'object', 'created', 'model', 'choices', 'prompt_token_ids']);
    assert.equal(first!.object, 'chat.completion.chunk');
    assert.deepEqual(first!.choices, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    assert.deepEqual(first!.prompt_token_ids, whole.prompt_token_ids);
    for (const chunk of [...rest, usage]) {
      assert.equal(chunk.id, first!.id);
      assert.equal('prompt_token_ids' in chunk, false);
    }
    type StreamChoice = { delta: { content?: string; reasoning?: string; tool_calls?: { index: number; id: string; type: string; function: { name: string; arguments: string } }[] }; token_ids: number[]; finish_reason: string | null; logprobs: { content: unknown[] } };
    const choices = rest.map((chunk) => (chunk.choices as StreamChoice[])[0]!);
    assert.equal(choices.length, whole.choices[0]!.token_ids!.length, 'one chunk per id');
    assert.deepEqual(choices.flatMap((c) => c.token_ids), whole.choices[0]!.token_ids);
    assert.deepEqual(choices.flatMap((c) => c.logprobs.content), whole.choices[0]!.logprobs!.content);
    assert.equal(choices.map((c) => c.delta.reasoning ?? '').join(''), whole.choices[0]!.message.reasoning);
    assert.equal(choices.map((c) => c.delta.content ?? '').join(''), whole.choices[0]!.message.content);
    const calls = choices.flatMap((c) => c.delta.tool_calls ?? []);
    assert.deepEqual(calls, whole.choices[0]!.message.tool_calls.map((call, index) => ({ index, ...call })));
    // The reasoning arrives before the call, and the call only once its block is closed.
    const reasoningAt = choices.findIndex((c) => c.delta.reasoning);
    const callAt = choices.findIndex((c) => c.delta.tool_calls);
    assert.ok(reasoningAt >= 0 && reasoningAt < callAt && callAt >= choices.length - 3);
    assert.deepEqual(choices.map((c) => c.finish_reason), [...choices.slice(1).map(() => null), 'tool_calls']);
    assert.equal((rest.at(-1)!.choices as { stop_reason: unknown }[])[0]!.stop_reason, null);
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, { prompt_tokens: whole.usage.prompt_tokens, completion_tokens: whole.usage.completion_tokens, total_tokens: whole.usage.total_tokens });
  });

  it('leaves ids and logprobs out unless asked, and streams only chunks that carry something', async () => {
    const plain = { messages: FIRST, tools: TOOLS };
    const body = await chat(engine, plain);
    assert.equal(body.prompt_token_ids, null);
    assert.equal(body.choices[0]!.token_ids, null);
    assert.equal(body.choices[0]!.logprobs, null);
    const events = sseData((await post(engine, '/v1/chat/completions', { ...plain, stream: true })).text);
    const chunks = events.slice(1, -1) as { choices: { delta: Record<string, unknown>; finish_reason: string | null; token_ids: null }[]; usage?: unknown }[];
    assert.ok(chunks.length < 20, `${chunks.length} chunks`);
    assert.ok(chunks.every((chunk) => chunk.usage === undefined && chunk.choices[0]!.token_ids === null));
    assert.ok(chunks.slice(0, -1).every((chunk) => Object.keys(chunk.choices[0]!.delta).length > 0));
    assert.equal(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join(''), 'Reading it.');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
  });

  it('answers the next turn from the history the client sends back, ending with "stop"', async () => {
    const first = await chat(engine, request);
    const message = first.choices[0]!.message;
    const messages = [...FIRST, { role: 'assistant', content: message.content, reasoning: message.reasoning, tool_calls: message.tool_calls }, { role: 'tool', tool_call_id: message.tool_calls[0]!.id, content: '3: retrun x;' }];
    const body = await chat(engine, { ...request, messages });
    const choice = body.choices[0]!;
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.content, 'The bug is on line 3. 🐛');
    assert.equal(choice.message.reasoning, 'Line 3 has the bug — «fixed».');
    assert.deepEqual(choice.message.tool_calls, []);
    assert.equal(reference.tokenizer.decode(choice.token_ids!), '<think>\nLine 3 has the bug — «fixed».\n</think>\n\nThe bug is on line 3. 🐛<|im_end|>');
    // The template sees the tool arguments as an object and the reasoning under reasoning_content, as vLLM passes them.
    const templated: ChatMessage[] = [...FIRST, { role: 'assistant', content: 'Reading it.', reasoning_content: 'I need the file first.', tool_calls: [{ type: 'function', function: { name: 'read_file', arguments: { path: 'src/a.ts', start_line: 3 } } }] }, { role: 'tool', content: '3: retrun x;' }];
    assert.deepEqual(body.prompt_token_ids, referencePromptIds(templated, TOOLS));
  });

  it('names the reasoning field reasoning_content when configured so (SGLang, older vLLM)', async () => {
    const body = await chat(contextEngine, request);
    const message = body.choices[0]!.message as unknown as Record<string, unknown>;
    assert.equal(message.reasoning_content, 'I need the file first.');
    assert.equal('reasoning' in message, false);
    const events = sseData((await post(contextEngine, '/v1/chat/completions', { ...request, stream: true })).text);
    const deltas = events.slice(1, -1).map((chunk) => ((chunk as { choices: { delta: Record<string, string> }[] }).choices[0]!.delta));
    assert.equal(deltas.map((delta) => delta.reasoning_content ?? '').join(''), 'I need the file first.');
    assert.ok(deltas.every((delta) => !('reasoning' in delta)));
  });
});

describe('POST /v1/chat/completions request options', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: scriptPolicy(SCRIPT) });
  });
  after(() => engine.close());

  it('stops at a stop string: the text ends before it, the ids include the token that completed it', async () => {
    const body = await chat(engine, { messages: FIRST, tools: TOOLS, stop: ['the file'], return_token_ids: true });
    const choice = body.choices[0]!;
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.stop_reason, 'the file');
    // The reasoning block never closed, so all of it is reasoning, up to the stop string.
    assert.equal(choice.message.reasoning, 'I need ');
    assert.deepEqual(choice.message.tool_calls, []);
    assert.ok(reference.tokenizer.decode(choice.token_ids!).endsWith('I need the file'));
  });

  it('cuts the answer at max_tokens (or max_completion_tokens) with finish_reason "length"', async () => {
    for (const field of ['max_tokens', 'max_completion_tokens']) {
      const body = await chat(engine, { messages: FIRST, tools: TOOLS, [field]: 5, return_token_ids: true });
      const choice = body.choices[0]!;
      assert.equal(choice.finish_reason, 'length');
      assert.equal(choice.token_ids!.length, 5);
      assert.equal(body.usage.completion_tokens, 5);
      assert.equal(choice.message.reasoning, 'I need the');
      assert.equal(choice.message.content, null);
    }
  });

  it('writes no reasoning when chat_template_kwargs turns thinking off', async () => {
    const vars = { enable_thinking: false };
    const body = await chat(engine, { messages: FIRST, tools: TOOLS, chat_template_kwargs: vars, return_token_ids: true });
    assert.deepEqual(body.prompt_token_ids, referencePromptIds(FIRST, TOOLS, vars));
    assert.ok(reference.tokenizer.decode(body.prompt_token_ids!).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    const choice = body.choices[0]!;
    assert.equal(choice.message.reasoning, null);
    assert.equal(reference.tokenizer.decode(choice.token_ids!), 'Reading it.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "src/a.ts", "start_line": 3}}\n</tool_call><|im_end|>');
    assert.equal(choice.message.tool_calls.length, 1);
  });

  it('runs no tool parser for tool_choice "none": the call text stays content, as vLLM leaves it', async () => {
    const body = await chat(engine, { messages: FIRST, tools: TOOLS, tool_choice: 'none' });
    const choice = body.choices[0]!;
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(choice.message.tool_calls, []);
    assert.match(choice.message.content!, /^Reading it\.\n<tool_call>\n\{"name": "read_file"/);
  });

  it('ends a named tool_choice turn with "stop", as vLLM does', async () => {
    const body = await chat(engine, { messages: FIRST, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'read_file' } } });
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.choices[0]!.message.tool_calls[0]!.function.name, 'read_file');
  });

  it('leaves reasoning out when include_reasoning is false', async () => {
    const body = await chat(engine, { messages: FIRST, tools: TOOLS, include_reasoning: false });
    assert.equal(body.choices[0]!.message.reasoning, null);
    assert.equal(body.choices[0]!.message.content, 'Reading it.');
  });

  it('joins text content parts with newlines and reads reasoning_content as reasoning, as vLLM does', async () => {
    const parts = [FIRST[0]!, { role: 'user', content: [{ type: 'text', text: 'Why does' }, { type: 'text', text: 'src/a.ts fail?' }] }];
    const body = await chat(engine, { messages: parts, return_token_ids: true });
    assert.deepEqual(body.prompt_token_ids, referencePromptIds([FIRST[0]!, { role: 'user', content: 'Why does\nsrc/a.ts fail?' }]));
  });

  it('passes a developer message to the template as vLLM does (Qwen3\'s template leaves it out)', async () => {
    const body = await chat(engine, { messages: [{ role: 'developer', content: 'Be terse.' }, ...FIRST], return_token_ids: true });
    assert.deepEqual(body.prompt_token_ids, referencePromptIds([{ role: 'developer', content: 'Be terse.' } as unknown as ChatMessage, ...FIRST]));
    assert.ok(!reference.tokenizer.decode(body.prompt_token_ids!).includes('Be terse.'));
  });

  it('prints a tool without a description as vLLM\'s pydantic dump does: description null', async () => {
    const bare = [{ type: 'function', function: { name: 'ping' } }];
    const body = await chat(engine, { messages: FIRST, tools: bare, return_token_ids: true });
    assert.ok(reference.tokenizer.decode(body.prompt_token_ids!).includes('{"type": "function", "function": {"name": "ping", "description": null, "parameters": null}}'));
  });
});
