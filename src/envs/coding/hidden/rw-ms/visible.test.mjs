// The repo's own tests (test/ms.test.mjs), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { ms: 'index.js#default' },
  cases: [
    { name: 'parses whole numbers with units', run: ({ ms }) => [ms('2 days'), ms('10h'), ms('100')], expect: [172800000, 36000000, 100] },
    { name: 'formats milliseconds', run: ({ ms }) => [ms(60000), ms(60000, { long: true })], expect: ['1m', '1 minute'] },
  ],
};
