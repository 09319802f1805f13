// Hidden suite for coding/collkit-bug-reports. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
const people = [
  { name: 'ann', last: 'lee', age: 31, team: 'red' },
  { name: 'bob', last: 'kim', age: 45, team: 'blue' },
  { name: 'cy', last: 'lee', age: 52, team: 'red' },
  { name: 'di', last: 'kim', age: 45, team: 'red' },
];

export default {
  imports: { c: 'src/index.js' },
  data: { people },
  cases: [
    { name: 'chunk keeps the remainder', run: ({ c }) => [c.chunk([1, 2, 3, 4, 5], 2), c.chunk([1, 2], 5), c.chunk([], 3)], expect: [[[1, 2], [3, 4], [5]], [[1, 2]], []] },
    {
      name: 'groupBy collects every item of a group',
      run: ({ c, data: { people } }) => [c.groupBy(people, 'team'), c.groupBy([1, 2, 3, 4], (n) => (n % 2 ? 'odd' : 'even'))],
      expect: [{ red: [people[0], people[2], people[3]], blue: [people[1]] }, { odd: [1, 3], even: [2, 4] }],
    },
    { name: 'uniqBy keeps the first item per key', run: ({ c, data: { people } }) => c.uniqBy(people, (p) => p.last).map((p) => p.name), expect: ['ann', 'bob'] },
    { name: 'zip stops at the shorter list', run: ({ c }) => [c.zip([1, 2, 3], ['a', 'b']), c.zip([], [1])], expect: [[[1, 'a'], [2, 'b']], []] },
    {
      name: 'flatten respects the depth',
      run: ({ c }) => [c.flatten([1, [2, [3, [4]]]]), c.flatten([1, [2, [3, [4]]]], 2), c.flatten([[1], [2]], 0)],
      expect: [[1, 2, [3, [4]]], [1, 2, 3, [4]], [[1], [2]]],
    },
    { name: 'partition passes the index', run: ({ c }) => c.partition(['a', 'b', 'c', 'd'], (_x, i) => i % 2 === 0), expect: [['a', 'c'], ['b', 'd']] },
    {
      name: 'range counts down with a negative step',
      run: ({ c }) => [c.range(5, 0, -2), c.range(0, 10, 3), c.range(3, 3)],
      expect: [[5, 3, 1], [0, 3, 6, 9], []],
    },
    { name: 'range refuses a zero step', run: ({ c }) => c.range(0, 1, 0), throws: 'RangeError' },
    {
      name: 'sortBy uses every key, stably',
      run: ({ c, data: { people } }) => [c.sortBy(people, 'last', '-age').map((p) => p.name), c.sortBy(people, '-age').map((p) => p.name)],
      expect: [['bob', 'di', 'cy', 'ann'], ['cy', 'bob', 'di', 'ann']],
    },
    {
      name: 'pick leaves out keys the object lacks',
      run: ({ c }) => {
        const picked = c.pick({ a: 1, b: undefined, c: 3 }, ['a', 'b', 'z']);
        const inherited = c.pick({}, ['toString']);
        return { picked, hasZ: 'z' in picked, ownToString: Object.hasOwn(inherited, 'toString') };
      },
      expect: { picked: { a: 1, b: undefined }, hasZ: false, ownToString: false },
    },
    { name: 'sumBy maps every item and sums empty lists to 0', run: ({ c, data: { people } }) => [c.sumBy(people, (p) => p.age), c.sumBy([], (p) => p.age)], expect: [173, 0] },
    { name: 'countBy counts', run: ({ c, data: { people } }) => c.countBy(people, (p) => p.team), expect: { red: 3, blue: 1 } },
    { name: 'intersection lists each shared value once', run: ({ c }) => c.intersection([1, 2, 2, 3, 1], [2, 1, 1]), expect: [1, 2] },
  ],
};
