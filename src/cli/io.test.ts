// What the CLI does to untrusted or multi-line text before it reaches a terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAUSE_LINE_MAX, causeLine, indentedLines } from './io.ts';

describe('causeLine', () => {
  it('keeps the reasons that follow the first line, joined on one line', () => {
    assert.equal(causeLine('initialState is not valid mail state:\ninitialState.messages.0.id: msg_ followed by four digits\n'), 'initialState is not valid mail state: initialState.messages.0.id: msg_ followed by four digits');
    assert.equal(causeLine('task cannot run:\n  a: bad\n  b: worse'), 'task cannot run: a: bad; b: worse');
    assert.equal(causeLine('one line'), 'one line');
  });

  it('caps a long cause with an ellipsis, so one rollout stays one line', () => {
    const long = causeLine(`first:\n${'x'.repeat(2 * CAUSE_LINE_MAX)}`);
    assert.equal(long.length, CAUSE_LINE_MAX);
    assert.ok(long.startsWith('first: xxx') && long.endsWith('…'));
    assert.equal(causeLine('abcdef', 4), 'abc…');
  });

  it('shows escape sequences as text, not as terminal commands', () => {
    assert.equal(causeLine('bad\u001b[2J:\nreason'), 'bad\\x1b[2J: reason');
  });
});

describe('indentedLines', () => {
  it('indents the continuation lines of a text shown whole', () => {
    assert.equal(indentedLines('head:\nreason one\nreason two\n', '    '), 'head:\n    reason one\n    reason two');
  });
});
