// The repo's own tests (test/minimist.test.mjs), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { parse: 'index.js#default' },
  cases: [
    {
      name: 'parses flags and positionals',
      run: ({ parse }) => parse(['-x', '3', '-y', '4', '-n5', '-abc', '--beep=boop', 'foo', 'bar', 'baz']),
      expect: { _: ['foo', 'bar', 'baz'], x: 3, y: 4, n: 5, a: true, b: true, c: true, beep: 'boop' },
    },
    { name: 'parses booleans', run: ({ parse }) => parse(['--verbose', 'file'], { boolean: ['verbose'] }), expect: { _: ['file'], verbose: true } },
  ],
};
