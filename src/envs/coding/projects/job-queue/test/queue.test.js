import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MinHeap } from '../src/heap.js';
import { Scheduler } from '../src/scheduler.js';

test('pops a few numbers in order', () => {
  const heap = new MinHeap();
  for (const n of [3, 1, 2]) heap.push(n);
  assert.deepEqual([heap.pop(), heap.pop(), heap.pop(), heap.pop()], [1, 2, 3, undefined]);
});

test('runs higher priorities first', () => {
  const s = new Scheduler();
  s.add('low', 1);
  s.add('high', 5);
  assert.deepEqual(s.drain(), ['high', 'low']);
});
