// Hidden suite for coding/money-rounding. Each probe runs in the sandbox and returns a value; the
// expectation beside it stays in the grader.
export default {
  imports: { money: 'src/index.js' },
  cases: [
    {
      name: 'parses amounts that are not exact in binary floating point',
      run: ({ money }) => ['0.29', '1.15', '4.35', '19.99'].map((s) => money.toCents(s)),
      expect: [29, 115, 435, 1999],
    },
    { name: 'parses negative amounts', run: ({ money }) => [money.toCents('-0.29'), money.toCents('-12.5')], expect: [-29, -1250] },
    { name: 'still rejects more than two decimals', run: ({ money }) => money.toCents('1.234'), throws: {} },
    { name: 'still rejects words', run: ({ money }) => money.toCents('abc'), throws: {} },
    {
      name: 'puts the minus sign before the symbol',
      run: ({ money }) => [money.formatCents(-500), money.formatCents(-123456, 'GBP')],
      expect: ['-$5.00', '-£1,234.56'],
    },
    {
      name: 'formats amounts under one unit, including negative ones',
      run: ({ money }) => [money.formatCents(7), money.formatCents(-7)],
      expect: ['$0.07', '-$0.07'],
    },
    {
      name: 'split shares add up to the total',
      run: ({ money }) => [money.splitEvenly(1000, 3), money.splitEvenly(101, 4), money.splitEvenly(2, 3)],
      expect: [[334, 333, 333], [26, 25, 25, 25], [1, 1, 0]],
    },
  ],
};
