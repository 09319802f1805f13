// Hidden suite for coding/ms-decimal-durations (examples from the ms README). Each probe runs in the
// sandbox and returns a value; the expectation beside it stays in the grader.
export default {
  imports: { ms: 'index.js#default' },
  cases: [
    { name: 'parses decimals', run: ({ ms }) => ['2.5 hrs', '1.5h', '.5ms', '.5s'].map((s) => ms(s)), expect: [9000000, 5400000, 0.5, 500] },
    { name: 'parses negative decimals', run: ({ ms }) => [ms('-1.5h'), ms('-.5h')], expect: [-5400000, -1800000] },
    {
      name: 'keeps parsing integers and units',
      run: ({ ms }) => ['1d', '2h', '1m', '5s', '1y', '-3 days', '-200', '53 milliseconds'].map((s) => ms(s)),
      expect: [86400000, 7200000, 60000, 5000, 31557600000, -259200000, -200, 53],
    },
    { name: 'returns undefined for invalid strings', run: ({ ms }) => ['☃', '10-.5', '1.2.3s'].map((s) => ms(s)), expect: [undefined, undefined, undefined] },
    {
      name: 'formats short and long',
      run: ({ ms }) => [ms(2 * 60000), ms(-3 * 60000), ms(ms('10 hours')), ms(2 * 60000, { long: true }), ms(ms('10 hours'), { long: true })],
      expect: ['2m', '-3m', '10h', '2 minutes', '10 hours'],
    },
  ],
};
