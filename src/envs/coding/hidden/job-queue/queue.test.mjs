import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MinHeap } from '../src/heap.js';
import { Scheduler } from '../src/scheduler.js';

function drainHeap(values, compare) {
  const heap = new MinHeap(compare);
  for (const v of values) heap.push(v);
  const out = [];
  while (heap.size > 0) out.push(heap.pop());
  return out;
}

describe('heap order', () => {
  it('sorts a known tricky sequence', () => {
    assert.deepEqual(drainHeap([1, 5, 3, 6, 7, 4, 2]), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('sorts many pseudo-random numbers', () => {
    let seed = 7;
    const values = Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 1000);
    assert.deepEqual(drainHeap(values), [...values].sort((a, b) => a - b));
  });

  it('uses the comparator', () => {
    assert.deepEqual(drainHeap(['ccc', 'a', 'bb', 'dddd'], (a, b) => b.length - a.length), ['dddd', 'ccc', 'bb', 'a']);
  });
});

describe('scheduler', () => {
  it('runs jobs of equal priority first in, first out', () => {
    const s = new Scheduler();
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) s.add(name, 1);
    assert.deepEqual(s.drain(), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('orders by priority then arrival', () => {
    const s = new Scheduler();
    s.add('x1', 0);
    s.add('y1', 2);
    s.add('x2', 0);
    s.add('z1', 9);
    s.add('y2', 2);
    s.add('x3', 0);
    s.add('y3', 2);
    assert.deepEqual(s.drain(), ['z1', 'y1', 'y2', 'y3', 'x1', 'x2', 'x3']);
  });

  it('keeps arrival order across drains', () => {
    const s = new Scheduler();
    s.add('a', 1);
    s.drain();
    s.add('b', 1);
    s.add('c', 1);
    assert.deepEqual(s.drain(), ['b', 'c']);
  });
});
