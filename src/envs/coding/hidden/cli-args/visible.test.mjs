// The repo's own tests (test/args.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { parseArgs: 'src/args.js#parseArgs' },
  data: {
    options: {
      out: { type: 'string', short: 'o' },
      verbose: { type: 'boolean', short: 'v' },
      level: { type: 'string', default: 'info' },
    },
  },
  cases: [
    {
      name: 'parses long, short and positional arguments',
      run: ({ parseArgs, data: { options } }) => parseArgs(['--out', 'dist', '-v', 'src'], { options }),
      expect: { values: { out: 'dist', verbose: true, level: 'info' }, positionals: ['src'] },
    },
    { name: 'rejects unknown options', run: ({ parseArgs, data: { options } }) => parseArgs(['--nope'], { options }), throws: /unknown option --nope/ },
    { name: 'needs a value for string options', run: ({ parseArgs, data: { options } }) => parseArgs(['--out'], { options }), throws: /option --out needs a value/ },
  ],
};
