import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadChatTemplate, loadQwen3Tokenizer } from '../../formats/index.ts';
import { generate } from './generate.ts';
import { sampledLogprob, topLogprobs } from './logprobs.ts';
import { createTokenCodec, loadEngineTokenizer, shippedQwen3Dir } from './tokens.ts';

const reference = await loadQwen3Tokenizer();
const engineTokenizer = await loadEngineTokenizer();
const codec = createTokenCodec(engineTokenizer, { cacheEntries: 8, cacheChars: 200 });
const template = await loadChatTemplate(join(shippedQwen3Dir(), 'tokenizer_config.json'));

const TEXTS = [
  '<|im_start|>user\nWetter in München? 🌧️ — «bitte»<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
  '  leading spaces, trailing\n\n\n',
  '<tool_call>\n{"name": "f", "arguments": {"a": [1, 2.5, "x y"]}}\n</tool_call><tool_response>\nok\n</tool_response>',
  'a<|im_end|><|im_end|>b<think></think>\t\r\nc',
  '修复 café e\u0301 ﬁ',
];

describe('token codec', () => {
  it('loads the shipped Qwen3 tokenizer with its added tokens and vocabulary size', () => {
    assert.equal(engineTokenizer.vocabSize, 151_669);
    assert.equal(engineTokenizer.addedTokens.length, 26);
    assert.deepEqual(engineTokenizer.addedTokens.find((token) => token.content === '<think>'), { content: '<think>', id: 151_667 });
    assert.equal(codec.firstAddedId, 151_643);
  });

  it('gives exactly the tokenizer\'s ids, whether a piece is cached or not', () => {
    const rendered = template.render({ messages: [{ role: 'user', content: TEXTS.join(' ') }], addGenerationPrompt: true });
    assert.ok(rendered.ok);
    for (const text of [...TEXTS, rendered.text]) {
      const expected = reference.encode(text, { addSpecialTokens: false });
      assert.deepEqual(codec.encode(text), expected, text);
      assert.deepEqual(codec.encode(text), expected, `${text} (cached)`);
    }
    // Eviction (8 entries, 200 characters) must not change anything either.
    for (const text of TEXTS) assert.deepEqual(codec.encode(text), reference.encode(text, { addSpecialTokens: false }));
  });

  it('splits decoded text per id, holding a character spread over several ids until it is whole', () => {
    const ids = codec.encode('hi 🌧️ ok');
    const pieces = codec.pieces(ids);
    assert.equal(pieces.length, ids.length);
    assert.equal(pieces.join(''), 'hi 🌧️ ok');
    assert.ok(pieces.includes(''), 'some ids carry only part of a character');
    assert.ok(pieces.every((piece) => !piece.includes('\uFFFD')));
  });

  it('names the path it cannot load', async () => {
    await assert.rejects(loadEngineTokenizer('/no/such/tokenizer'), /\/no\/such\/tokenizer: cannot read the tokenizer/);
  });
});

describe('generate', () => {
  const eosId = codec.idOf('<|im_end|>')!;
  const ids = codec.encode('<think>\nabc\n</think>\n\nHello world<|im_end|>');

  it('stops at the end-of-turn token, leaving its text out', () => {
    const out = generate(codec, ids, { maxTokens: 100, stop: [], eosId });
    assert.deepEqual(out.ids, ids);
    assert.equal(out.text, '<think>\nabc\n</think>\n\nHello world');
    assert.equal(out.pieces.join(''), out.text);
    assert.deepEqual([out.finishReason, out.stopReason], ['stop', null]);
  });

  it('stops at the earliest stop string, even across ids, and at the budget', () => {
    const stopped = generate(codec, ids, { maxTokens: 100, stop: ['o wor', 'zzz'], eosId });
    assert.equal(stopped.text, '<think>\nabc\n</think>\n\nHell');
    assert.equal(stopped.stopReason, 'o wor');
    assert.equal(stopped.pieces.join(''), stopped.text);
    assert.ok(codec.decode(stopped.ids).endsWith('Hello world'));
    const cut = generate(codec, ids, { maxTokens: 3, stop: [], eosId });
    assert.deepEqual([cut.ids.length, cut.finishReason, cut.text], [3, 'length', codec.decode(ids.slice(0, 3))]);
  });
});

describe('logprobs', () => {
  it('depend only on seed, position and id, and stay in a realistic range', () => {
    assert.equal(sampledLogprob(1, 2, 3), sampledLogprob(1, 2, 3));
    assert.notEqual(sampledLogprob(1, 2, 3), sampledLogprob(1, 3, 3));
    const values = Array.from({ length: 2000 }, (_unused, i) => sampledLogprob(9, i, 1000 + i));
    assert.ok(values.every((v) => v < 0 && v > -3.1));
    const confident = values.filter((v) => v > -0.1).length / values.length;
    assert.ok(confident > 0.5 && confident < 0.95, `share near-certain: ${confident}`);
  });

  it('list the sampled token first, then distinct ordinary tokens whose probabilities fit in what is left', () => {
    for (let position = 0; position < 200; position++) {
      const top = topLogprobs(codec, 4, position, 151_667, 5);
      assert.equal(top[0]!.id, 151_667);
      assert.equal(new Set(top.map((entry) => entry.id)).size, 6);
      assert.ok(top.slice(1).every((entry) => entry.id < codec.firstAddedId));
      for (let j = 2; j < top.length; j++) assert.ok(top[j]!.logprob < top[j - 1]!.logprob);
      assert.ok(top.reduce((sum, entry) => sum + Math.exp(entry.logprob), 0) <= 1 + 1e-9);
    }
  });
});
