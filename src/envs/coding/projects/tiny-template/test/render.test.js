import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, render } from '../src/index.js';

test('fills placeholders', () => {
  assert.equal(render('Hello, {{ name }}!', { name: 'Ada' }), 'Hello, Ada!');
});

test('escapes html', () => {
  assert.equal(render('<p>{{x}}</p>', { x: '<b>"hi" & bye</b>' }), '<p>&lt;b&gt;&quot;hi&quot; &amp; bye&lt;/b&gt;</p>');
});

test('compiles once, renders many times', () => {
  const hello = compile('hi {{n}}');
  assert.equal(hello({ n: 1 }) + hello({ n: 2 }), 'hi 1hi 2');
});
