import assert from 'node:assert/strict';
import { test } from 'node:test';
import contentType from '../index.js';

test('parses a type with a parameter', () => {
  const obj = contentType.parse('text/html; charset=utf-8');
  assert.equal(obj.type, 'text/html');
  assert.deepEqual({ ...obj.parameters }, { charset: 'utf-8' });
});

test('formats', () => {
  assert.equal(contentType.format({ type: 'image/svg+xml', parameters: { charset: 'utf-8' } }), 'image/svg+xml; charset=utf-8');
});
