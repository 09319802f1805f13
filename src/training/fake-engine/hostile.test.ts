// Hostile requests and model files for the fake engine: bodies that are not UTF-8, nest without
// end or exceed the size limit; prompt id lists far past the context; a Llama-style tokenizer
// whose added tokens come first. The engine answers each with a clear 400 (or 413) and keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadChatTemplate } from '../../formats/index.ts';
import { modelDir, tinyTokenizerJson } from '../../formats/test-support.ts';
import { topLogprobs } from './logprobs.ts';
import { scriptPolicy } from './policy.ts';
import { loadShippedTokenizer, startFakeEngine, type FakeEngine } from './server.ts';
import { post, type ChatBody, type ErrorBody } from './test-support.ts';
import { createTokenCodec, loadEngineTokenizer } from './tokens.ts';

const USER = [{ role: 'user', content: 'hi' }];

function errorOf(reply: { status: number; json: unknown; text: string }, status = 400): ErrorBody['error'] {
  assert.equal(reply.status, status, reply.text);
  return (reply.json as ErrorBody).error;
}

describe('hostile request bodies', () => {
  let engine: FakeEngine;
  let decodedIds = 0;
  before(async () => {
    const shipped = await loadShippedTokenizer();
    // Counts the ids read back to text, to see what work a request caused.
    const decode: typeof shipped.tokenizer.decode = (ids, options) => {
      decodedIds += ids.length;
      return shipped.tokenizer.decode(ids, options);
    };
    engine = await startFakeEngine({ tokenizer: { ...shipped, tokenizer: { ...shipped.tokenizer, decode } }, policy: scriptPolicy({ turns: [{ content: 'Hello.' }] }), maxModelLen: 256 });
  });
  after(() => engine.close());

  it('answers 400 for a body that is not UTF-8, instead of tokenizing U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"prompt": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const response = await fetch(`${engine.origin}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as ErrorBody).error.message, /the request body is not valid UTF-8/);
  });

  it('answers 400 for bodies and tool arguments nested past the depth limit, instead of overflowing the stack', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const kwargs = errorOf(await post(engine, '/v1/chat/completions', `{"messages": [{"role": "user", "content": "hi"}], "chat_template_kwargs": {"x": ${deep}}}`));
    assert.match(kwargs.message, /^the request body nests arrays and objects more than 256 levels deep$/);
    const call = { id: 'c1', type: 'function', function: { name: 'read_file', arguments: `{"a": ${deep}}` } };
    const args = errorOf(await post(engine, '/v1/chat/completions', { messages: [...USER, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', content: 'x' }] }));
    assert.equal(args.param, 'messages.1.tool_calls.0.function.arguments');
    assert.match(args.message, /function\.arguments: nests arrays and objects more than 256 levels deep/);
  });

  it('checks a prompt of ids against the context before reading a single id back to text', async () => {
    decodedIds = 0;
    const error = errorOf(await post(engine, '/v1/completions', { prompt: Array.from({ length: 100_000 }, (_, i) => i % 1000) }));
    assert.match(error.message, /maximum context length is 256 tokens\. However, your request has 100000 input tokens/);
    assert.equal(decodedIds, 0);
  });

  it('closes the connection after a 413, so a client reusing it sends its next requests on a fresh one', async () => {
    const oversized = Buffer.alloc(64 * 1024 * 1024 + 1, 0x20);
    const declared = await fetch(`${engine.origin}/tokenize`, { method: 'POST', body: oversized });
    assert.equal(declared.status, 413);
    assert.equal(declared.headers.get('connection'), 'close');
    await declared.text();
    // Without a content-length the limit is found while reading.
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 65; i++) controller.enqueue(oversized.subarray(0, 1024 * 1024));
        controller.close();
      },
    });
    const chunked = await fetch(`${engine.origin}/tokenize`, { method: 'POST', body: streamed, duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 413);
    await chunked.text();
    for (const prompt of ['a', 'b', 'c', 'd']) assert.equal((await post(engine, '/tokenize', { prompt })).status, 200);
  });
});

describe('tokenizers unlike Qwen3', () => {
  it('counts a Unigram vocabulary (a list) in the vocabulary size', async () => {
    const unigram = modelDir({
      'tokenizer.json': {
        added_tokens: [{ id: 0, content: '<unk>', special: true }],
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['▁', -1], ['a', -2], ['b', -2], ['▁ab', -1.5]] },
      },
    });
    try {
      assert.equal((await loadEngineTokenizer(unigram.dir)).vocabSize, 5);
    } finally {
      unigram.remove();
    }
  });

  it('loads a tokenizer with 150,000 added tokens (too many to spread into Math.max)', async () => {
    const many = modelDir({ 'tokenizer.json': tinyTokenizerJson({ added: Array.from({ length: 150_000 }, (_, i) => ({ id: 256 + i, content: `<|x${i}|>` })) }) });
    try {
      const engine = await loadEngineTokenizer(many.dir);
      assert.equal(engine.vocabSize, 150_256);
      assert.equal(createTokenCodec(engine).firstAddedId, 256);
    } finally {
      many.remove();
    }
  });
});

describe('a Llama-style tokenizer, its added tokens first', () => {
  const files = modelDir({
    'tokenizer.json': tinyTokenizerJson({ firstByteId: 3, added: ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content })) }),
    'tokenizer_config.json': { bos_token: '<s>', eos_token: '</s>', chat_template: '{% for m in messages %}{{ m.role }}: {{ m.content }}</s>{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}' },
  });
  after(files.remove);

  it('draws top-logprob alternatives from the ordinary ids, not from a range that is empty', async () => {
    const codec = createTokenCodec(await loadEngineTokenizer(files.dir));
    assert.deepEqual(codec.ordinaryIds, { start: 3, end: 259 });
    for (let position = 0; position < 50; position++) {
      const alternatives = topLogprobs(codec, 7, position, 2, 1).slice(1);
      assert.equal(alternatives.length, 1);
      for (const { id } of alternatives) assert.ok(Number.isInteger(id) && id >= 3 && id < 259, String(id));
    }
  });

  it('answers a logprobs request with every alternative asked for', async () => {
    const engine = await startFakeEngine({ template: await loadChatTemplate(files.dir), tokenizer: await loadEngineTokenizer(files.dir), policy: scriptPolicy({ turns: [{ content: 'Hi.' }] }) });
    try {
      const reply = await post(engine, '/v1/chat/completions', { messages: USER, logprobs: true, top_logprobs: 5, return_tokens_as_token_ids: true });
      assert.equal(reply.status, 200, reply.text);
      const content = (reply.json as ChatBody).choices[0]?.logprobs?.content ?? [];
      assert.equal(content.length, 4);
      for (const entry of content) {
        const ids = entry.top_logprobs.map((top) => Number(top.token.replace('token_id:', '')));
        assert.equal(new Set(ids).size, 5);
        assert.ok(ids.slice(1).every((id) => id >= 3), String(ids));
      }
    } finally {
      await engine.close();
    }
  });
});
