import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadChatTemplate, loadQwen3Tokenizer, type ChatMessage, type ChatTool } from '../../formats/index.ts';
import { scriptPolicy } from './policy.ts';
import { startFakeEngine, type FakeEngine } from './server.ts';
import { post, TOOLS } from './test-support.ts';
import { shippedQwen3Dir } from './tokens.ts';

const tokenizer = await loadQwen3Tokenizer();
const template = await loadChatTemplate(join(shippedQwen3Dir(), 'tokenizer_config.json'));
const SCRIPT = { turns: [{ reasoning: 'Look first.', toolCalls: [{ name: 'read_file', arguments: { path: 'a.ts' } }] }, { reasoning: 'Got it.', content: 'Line 3.' }] };
const MESSAGES: ChatMessage[] = [{ role: 'user', content: 'What fails in a.ts?' }];
const COMPLETION = '<think>\nLook first.\n</think>\n\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.ts"}}\n</tool_call>';

function render(messages: readonly ChatMessage[], options: { tools?: readonly ChatTool[]; addGenerationPrompt?: boolean } = {}): string {
  const rendered = template.render({ messages, ...(options.tools ? { tools: options.tools } : {}), addGenerationPrompt: options.addGenerationPrompt ?? true });
  assert.ok(rendered.ok);
  return rendered.text;
}

interface CompletionBody {
  id: string;
  object: string;
  choices: {
    index: number;
    text: string;
    logprobs: { text_offset: number[]; token_logprobs: number[]; tokens: string[]; top_logprobs: Record<string, number>[] } | null;
    finish_reason: string;
    stop_reason: string | null;
    token_ids: number[] | null;
    prompt_token_ids: number[] | null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number };
}

describe('the text routes', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: scriptPolicy(SCRIPT), maxModelLen: 4096 });
  });
  after(() => engine.close());

  it('POST /v1/completions continues a rendered prompt with the policy turn in the hermes format, ids and logprobs included', async () => {
    const prompt = render(MESSAGES, { tools: TOOLS });
    const reply = await post(engine, '/v1/completions', { model: 'Qwen/Qwen3-8B', prompt, max_tokens: 200, return_token_ids: true, logprobs: 2 });
    assert.equal(reply.status, 200);
    const body = reply.json as CompletionBody;
    assert.deepEqual(Object.keys(body), ['id', 'object', 'created', 'model', 'choices', 'service_tier', 'system_fingerprint', 'usage', 'kv_transfer_params']);
    assert.match(body.id, /^cmpl-[0-9a-f]{32}$/);
    assert.equal(body.object, 'text_completion');
    const choice = body.choices[0]!;
    assert.deepEqual(Object.keys(choice), ['index', 'text', 'logprobs', 'finish_reason', 'stop_reason', 'token_ids', 'prompt_logprobs', 'prompt_token_ids']);
    assert.equal(choice.text, COMPLETION);
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(choice.token_ids, tokenizer.encode(`${COMPLETION}<|im_end|>`, { addSpecialTokens: false }));
    assert.deepEqual(choice.prompt_token_ids, tokenizer.encode(prompt, { addSpecialTokens: false }));
    assert.equal(body.usage.prompt_tokens, choice.prompt_token_ids!.length);
    const logprobs = choice.logprobs!;
    assert.equal(logprobs.tokens.length, choice.token_ids!.length);
    assert.deepEqual(logprobs.tokens, choice.token_ids!.map((id) => tokenizer.decode([id])));
    assert.ok(logprobs.token_logprobs.every((lp) => lp < 0 && lp > -3.1));
    assert.ok(logprobs.top_logprobs.every((top, i) => Object.keys(top).length === 3 && top[logprobs.tokens[i]!] === logprobs.token_logprobs[i]));
    assert.equal(logprobs.text_offset[0], 0);
    assert.equal(COMPLETION.slice(logprobs.text_offset[3]!).startsWith(logprobs.tokens[3]!), true);
  });

  it('takes the prompt as token ids, reads the turn from the assistant headers in it, and gives the same answer either way', async () => {
    const first = render(MESSAGES, { tools: TOOLS });
    const second = `${first}${COMPLETION}<|im_end|>\n<|im_start|>user\n<tool_response>\nerror on line 3\n</tool_response><|im_end|>\n<|im_start|>assistant\n`;
    const ids = tokenizer.encode(second, { addSpecialTokens: false });
    const asText = (await post(engine, '/v1/completions', { prompt: second, max_tokens: 100 })).json as CompletionBody;
    const asIds = (await post(engine, '/v1/completions', { prompt: ids, max_tokens: 100, return_token_ids: true })).json as CompletionBody;
    assert.equal(asText.choices[0]!.text, '<think>\nGot it.\n</think>\n\nLine 3.');
    assert.equal(asIds.choices[0]!.text, asText.choices[0]!.text);
    assert.deepEqual(asIds.choices[0]!.prompt_token_ids, ids);
  });

  it('stops /v1/completions after 16 tokens by default, as vLLM does', async () => {
    const body = (await post(engine, '/v1/completions', { prompt: render(MESSAGES), return_token_ids: true })).json as CompletionBody;
    assert.equal(body.choices[0]!.finish_reason, 'length');
    assert.equal(body.choices[0]!.token_ids!.length, 16);
    assert.equal(body.usage.completion_tokens, 16);
    assert.equal(body.choices[0]!.logprobs, null);
  });

  it('POST /tokenize renders messages and tools with the template, or tokenizes a plain prompt', async () => {
    const chatIds = tokenizer.encode(render(MESSAGES, { tools: TOOLS }), { addSpecialTokens: false });
    const reply = await post(engine, '/tokenize', { model: 'Qwen/Qwen3-8B', messages: MESSAGES, tools: TOOLS });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { count: chatIds.length, max_model_len: 4096, tokens: chatIds, token_strs: null });
    const closed = (await post(engine, '/tokenize', { messages: MESSAGES, add_generation_prompt: false })).json as { tokens: number[] };
    assert.deepEqual(closed.tokens, tokenizer.encode(render(MESSAGES, { addGenerationPrompt: false }), { addSpecialTokens: false }));
    const open = (await post(engine, '/tokenize', { messages: [...MESSAGES, { role: 'assistant', content: 'It fails on' }], add_generation_prompt: false, continue_final_message: true })).json as { tokens: number[] };
    // Qwen3's template gives the final assistant turn an (empty) think block; the text is left open after the content.
    assert.ok(tokenizer.decode(open.tokens).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\nIt fails on'));
    const text = (await post(engine, '/tokenize', { prompt: 'héllo <think> 修复', return_token_strs: true })).json as { count: number; tokens: number[]; token_strs: string[] };
    assert.deepEqual(text.tokens, tokenizer.encode('héllo <think> 修复'));
    assert.deepEqual(text.token_strs, text.tokens.map((id) => tokenizer.decode([id])));
  });

  it('POST /detokenize gives the text of ids back, special tokens included', async () => {
    const ids = tokenizer.encode('<|im_start|>user\nhi 🌧️<|im_end|>', { addSpecialTokens: false });
    const reply = await post(engine, '/detokenize', { tokens: ids });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { prompt: '<|im_start|>user\nhi 🌧️<|im_end|>' });
  });

  it('GET /v1/models lists the served model with its context length; GET /health answers 200', async () => {
    const models = (await (await fetch(`${engine.url}/models`)).json()) as { object: string; data: { id: string; object: string; owned_by: string; root: string; max_model_len: number }[] };
    assert.equal(models.object, 'list');
    assert.equal(models.data.length, 1);
    assert.deepEqual({ ...models.data[0], created: undefined, permission: undefined }, { id: 'Qwen/Qwen3-8B', object: 'model', created: undefined, owned_by: 'vllm', root: 'Qwen/Qwen3-8B', parent: null, max_model_len: 4096, permission: undefined });
    assert.equal((await fetch(`${engine.origin}/health`)).status, 200);
  });
});
