import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as c from '../src/index.js';

const people = [
  { name: 'ann', last: 'lee', age: 31, team: 'red' },
  { name: 'bob', last: 'kim', age: 45, team: 'blue' },
  { name: 'cy', last: 'lee', age: 52, team: 'red' },
  { name: 'di', last: 'kim', age: 45, team: 'red' },
];

describe('collkit contracts', () => {
  it('chunk keeps the remainder', () => {
    assert.deepEqual(c.chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(c.chunk([1, 2], 5), [[1, 2]]);
    assert.deepEqual(c.chunk([], 3), []);
  });

  it('groupBy collects every item of a group', () => {
    assert.deepEqual(c.groupBy(people, 'team'), { red: [people[0], people[2], people[3]], blue: [people[1]] });
    assert.deepEqual(c.groupBy([1, 2, 3, 4], (n) => (n % 2 ? 'odd' : 'even')), { odd: [1, 3], even: [2, 4] });
  });

  it('uniqBy keeps the first item per key', () => {
    assert.deepEqual(c.uniqBy(people, (p) => p.last).map((p) => p.name), ['ann', 'bob']);
  });

  it('zip stops at the shorter list', () => {
    assert.deepEqual(c.zip([1, 2, 3], ['a', 'b']), [[1, 'a'], [2, 'b']]);
    assert.deepEqual(c.zip([], [1]), []);
  });

  it('flatten respects the depth', () => {
    assert.deepEqual(c.flatten([1, [2, [3, [4]]]]), [1, 2, [3, [4]]]);
    assert.deepEqual(c.flatten([1, [2, [3, [4]]]], 2), [1, 2, 3, [4]]);
    assert.deepEqual(c.flatten([[1], [2]], 0), [[1], [2]]);
  });

  it('partition passes the index', () => {
    assert.deepEqual(c.partition(['a', 'b', 'c', 'd'], (_x, i) => i % 2 === 0), [['a', 'c'], ['b', 'd']]);
  });

  it('range counts down with a negative step', () => {
    assert.deepEqual(c.range(5, 0, -2), [5, 3, 1]);
    assert.deepEqual(c.range(0, 10, 3), [0, 3, 6, 9]);
    assert.deepEqual(c.range(3, 3), []);
    assert.throws(() => c.range(0, 1, 0), RangeError);
  });

  it('sortBy uses every key, stably', () => {
    assert.deepEqual(c.sortBy(people, 'last', '-age').map((p) => p.name), ['bob', 'di', 'cy', 'ann']);
    assert.deepEqual(c.sortBy(people, '-age').map((p) => p.name), ['cy', 'bob', 'di', 'ann']);
  });

  it('pick leaves out keys the object lacks', () => {
    const picked = c.pick({ a: 1, b: undefined, c: 3 }, ['a', 'b', 'z']);
    assert.deepEqual(picked, { a: 1, b: undefined });
    assert.equal('z' in picked, false);
    assert.equal('toString' in c.pick({}, ['toString']) && Object.hasOwn(c.pick({}, ['toString']), 'toString'), false);
  });

  it('sumBy maps every item and sums empty lists to 0', () => {
    assert.equal(c.sumBy(people, (p) => p.age), 173);
    assert.equal(c.sumBy([], (p) => p.age), 0);
  });

  it('countBy counts', () => {
    assert.deepEqual(c.countBy(people, (p) => p.team), { red: 3, blue: 1 });
  });

  it('intersection lists each shared value once', () => {
    assert.deepEqual(c.intersection([1, 2, 2, 3, 1], [2, 1, 1]), [1, 2]);
  });
});
