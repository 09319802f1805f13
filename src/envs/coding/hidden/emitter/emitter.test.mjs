import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../src/emitter.js';

describe('once and removal', () => {
  it('removes a once listener with the original function', () => {
    const e = new Emitter();
    let count = 0;
    const listener = () => count++;
    e.once('x', listener);
    e.off('x', listener);
    assert.equal(e.listenerCount('x'), 0);
    assert.equal(e.emit('x'), false);
    assert.equal(count, 0);
  });

  it('calls every listener even when a once listener removes itself', () => {
    const e = new Emitter();
    const seen = [];
    e.once('x', () => seen.push('first'));
    e.on('x', () => seen.push('second'));
    e.on('x', () => seen.push('third'));
    e.emit('x');
    assert.deepEqual(seen, ['first', 'second', 'third']);
  });

  it('a listener added during emit runs on the next emit only', () => {
    const e = new Emitter();
    const seen = [];
    e.on('x', () => {
      seen.push('a');
      e.on('x', () => seen.push('late'));
    });
    e.emit('x');
    assert.deepEqual(seen, ['a']);
  });

  it('a listener removed during emit still runs in that emit', () => {
    const e = new Emitter();
    const seen = [];
    const b = () => seen.push('b');
    e.on('x', () => {
      seen.push('a');
      e.off('x', b);
    });
    e.on('x', b);
    e.emit('x');
    e.emit('x');
    assert.deepEqual(seen, ['a', 'b', 'a']);
  });

  it('passes this and arguments to once listeners', () => {
    const e = new Emitter();
    let got;
    e.once('x', function (...args) {
      got = { self: this, args };
    });
    e.emit('x', 1, 'two');
    assert.equal(got.self, e);
    assert.deepEqual(got.args, [1, 'two']);
  });
});
