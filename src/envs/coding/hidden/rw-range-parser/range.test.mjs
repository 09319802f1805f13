import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import parseRange from '../index.js';

const plain = (ranges) => (Array.isArray(ranges) ? ranges.map((r) => ({ ...r })) : ranges);

describe('range-parser', () => {
  it('parses suffix ranges as the last N bytes', () => {
    assert.deepEqual(plain(parseRange(1000, 'bytes=-400')), [{ start: 600, end: 999 }]);
    assert.deepEqual(plain(parseRange(1000, 'bytes=-1')), [{ start: 999, end: 999 }]);
  });

  it('a suffix as long as the entity covers all of it', () => {
    assert.deepEqual(plain(parseRange(200, 'bytes=-200')), [{ start: 0, end: 199 }]);
  });

  it('combines adjacent ranges', () => {
    assert.deepEqual(plain(parseRange(150, 'bytes=0-4,5-9', { combine: true })), [{ start: 0, end: 9 }]);
    assert.deepEqual(plain(parseRange(150, 'bytes=0-4,90-99,5-75,100-199,101-102', { combine: true })), [{ start: 0, end: 75 }, { start: 90, end: 149 }]);
  });

  it('keeps separate ranges separate', () => {
    assert.deepEqual(plain(parseRange(150, 'bytes=0-4,6-9', { combine: true })), [{ start: 0, end: 4 }, { start: 6, end: 9 }]);
    assert.deepEqual(plain(parseRange(1000, 'bytes=40-80,-1')), [{ start: 40, end: 80 }, { start: 999, end: 999 }]);
  });
});
