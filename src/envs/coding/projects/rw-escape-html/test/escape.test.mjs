import assert from 'node:assert/strict';
import { test } from 'node:test';
import escapeHtml from '../index.js';

test('escapes markup', () => {
  assert.equal(escapeHtml('<a href="x">Tom & Jerry</a>'), '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&lt;/a&gt;');
});

test('leaves plain text alone', () => {
  assert.equal(escapeHtml('plain text'), 'plain text');
});
