// Hidden suite for coding/intervals-merge. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { m: 'src/intervals.js' },
  cases: [
    { name: 'sorts unsorted input', run: ({ m }) => m.merge([[8, 9], [1, 4], [2, 6]]), expect: [[1, 6], [8, 9]] },
    { name: 'joins touching intervals', run: ({ m }) => m.merge([[1, 3], [3, 5]]), expect: [[1, 5]] },
    { name: 'keeps the end of an interval that contains the next', run: ({ m }) => m.merge([[1, 10], [2, 3], [4, 5]]), expect: [[1, 10]] },
    {
      name: 'does not modify its input',
      run: ({ m }) => {
        const input = [[5, 7], [1, 6]];
        m.merge(input);
        return input;
      },
      expect: [[5, 7], [1, 6]],
    },
    { name: 'handles empty input and a single point', run: ({ m }) => [m.merge([]), m.merge([[2, 2]])], expect: [[], [[2, 2]]] },
    { name: 'measures the merged length', run: ({ m }) => m.totalLength([[5, 8], [0, 2], [1, 3], [3, 4]]), expect: 7 },
  ],
};
