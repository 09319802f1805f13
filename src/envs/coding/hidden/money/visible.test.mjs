// The repo's own tests (test/money.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { money: 'src/index.js' },
  cases: [
    { name: 'parses whole amounts', run: ({ money }) => [money.toCents('12'), money.toCents('12.5')], expect: [1200, 1250] },
    { name: 'formats positive amounts', run: ({ money }) => money.formatCents(123450, 'EUR'), expect: '€1,234.50' },
    { name: 'splits amounts that divide evenly', run: ({ money }) => money.splitEvenly(900, 3), expect: [300, 300, 300] },
  ],
};
