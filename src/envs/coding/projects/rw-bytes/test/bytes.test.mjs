import assert from 'node:assert/strict';
import { test } from 'node:test';
import bytes from '../index.js';

test('formats and parses', () => {
  assert.equal(bytes(1024), '1KB');
  assert.equal(bytes('1KB'), 1024);
  assert.equal(bytes.parse('1.5mb'), 1572864);
});
