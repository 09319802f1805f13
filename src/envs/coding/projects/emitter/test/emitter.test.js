import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../src/emitter.js';

test('calls listeners with the arguments', () => {
  const e = new Emitter();
  const seen = [];
  e.on('x', (a, b) => seen.push(a + b));
  assert.equal(e.emit('x', 1, 2), true);
  assert.deepEqual(seen, [3]);
});

test('once fires a single time', () => {
  const e = new Emitter();
  let count = 0;
  e.once('x', () => count++);
  e.emit('x');
  e.emit('x');
  assert.equal(count, 1);
});
