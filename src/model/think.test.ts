import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitInlineThink } from './think.ts';

describe('inline <think> splitting', () => {
  it('takes a leading think block as reasoning and the rest as visible content', () => {
    assert.deepEqual(splitInlineThink('<think>\nplan\n</think>\n\nanswer'), { reasoning: 'plan', visible: 'answer' });
  });

  it('treats text before a lone </think> as reasoning (the template opened the block)', () => {
    assert.deepEqual(splitInlineThink('plan</think>answer'), { reasoning: 'plan', visible: 'answer' });
  });

  it('treats an unclosed think block as reasoning cut off by the length limit', () => {
    assert.deepEqual(splitInlineThink('<think>still thinking'), { reasoning: 'still thinking', visible: '' });
  });

  it('leaves content without a leading block alone', () => {
    assert.deepEqual(splitInlineThink('I wrote <think> in prose'), { reasoning: null, visible: 'I wrote <think> in prose' });
    assert.deepEqual(splitInlineThink('a <think>x</think> b'), { reasoning: null, visible: 'a <think>x</think> b' });
  });
});
