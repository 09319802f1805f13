// The repo's own tests (test/basics.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { c: 'src/index.js' },
  cases: [
    { name: 'chunk splits evenly divisible lists', run: ({ c }) => c.chunk([1, 2, 3, 4], 2), expect: [[1, 2], [3, 4]] },
    { name: 'zip pairs lists of equal length', run: ({ c }) => c.zip([1, 2], ['a', 'b']), expect: [[1, 'a'], [2, 'b']] },
    { name: 'range counts up', run: ({ c }) => c.range(0, 3), expect: [0, 1, 2] },
    { name: 'sortBy sorts by one key', run: ({ c }) => c.sortBy([{ n: 2 }, { n: 1 }], 'n'), expect: [{ n: 1 }, { n: 2 }] },
    { name: 'intersection keeps shared values', run: ({ c }) => c.intersection([1, 2, 3], [3, 1]), expect: [1, 3] },
  ],
};
