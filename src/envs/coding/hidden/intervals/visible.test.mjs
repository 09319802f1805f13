// The repo's own tests (test/intervals.test.js), judged in the grader: run in the sandbox, they
// could be patched or rewritten by the code they test.
export default {
  imports: { m: 'src/intervals.js' },
  cases: [
    { name: 'merges overlapping sorted intervals', run: ({ m }) => m.merge([[1, 4], [2, 6], [8, 9]]), expect: [[1, 6], [8, 9]] },
    { name: 'keeps disjoint intervals', run: ({ m }) => [m.merge([[1, 2], [5, 6]]), m.totalLength([[1, 2], [5, 6]])], expect: [[[1, 2], [5, 6]], 2] },
  ],
};
