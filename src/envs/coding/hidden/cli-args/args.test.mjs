// Hidden suite for coding/cli-args-forms. Each probe runs in the sandbox and returns a value; the
// expectation beside it stays in the grader.
export default {
  imports: { parseArgs: 'src/args.js#parseArgs' },
  data: {
    options: {
      out: { type: 'string', short: 'o' },
      verbose: { type: 'boolean', short: 'v' },
      all: { type: 'boolean', short: 'a' },
      force: { type: 'boolean', short: 'f', default: true },
      level: { type: 'string', default: 'info' },
    },
  },
  cases: [
    {
      name: 'accepts --name=value',
      run: ({ parseArgs, data: { options } }) => parseArgs(['--out=dist', '--level=a=b'], { options }).values,
      expect: { out: 'dist', level: 'a=b', force: true },
    },
    { name: 'accepts an empty value after =', run: ({ parseArgs, data: { options } }) => parseArgs(['--out='], { options }).values.out, expect: '' },
    {
      name: 'rejects a value for a boolean given with =',
      run: ({ parseArgs, data: { options } }) => parseArgs(['--verbose=yes'], { options }),
      throws: /option --verbose does not take a value/,
    },
    {
      name: 'groups short booleans',
      run: ({ parseArgs, data: { options } }) => {
        const { values } = parseArgs(['-va'], { options });
        return [values.verbose, values.all];
      },
      expect: [true, true],
    },
    {
      name: 'lets the last short option in a group take the next value',
      run: ({ parseArgs, data: { options } }) => parseArgs(['-vo', 'build', 'x'], { options }),
      expect: { values: { verbose: true, out: 'build', force: true, level: 'info' }, positionals: ['x'] },
    },
    { name: 'rejects a string option in the middle of a group', run: ({ parseArgs, data: { options } }) => parseArgs(['-ov'], { options }), throws: /option -o needs a value/ },
    { name: 'rejects unknown letters in a group', run: ({ parseArgs, data: { options } }) => parseArgs(['-vz'], { options }), throws: /unknown option -z/ },
    {
      name: 'treats everything after -- as positional',
      run: ({ parseArgs, data: { options } }) => parseArgs(['-v', '--', '--out', '-a', 'file'], { options }).positionals,
      expect: ['--out', '-a', 'file'],
    },
    {
      name: 'sets --no-<flag> to false',
      run: ({ parseArgs, data: { options } }) => {
        const { values } = parseArgs(['--no-force', '--no-verbose'], { options });
        return [values.force, values.verbose];
      },
      expect: [false, false],
    },
    { name: 'does not accept --no- for string options', run: ({ parseArgs, data: { options } }) => parseArgs(['--no-out'], { options }), throws: /unknown option --no-out/ },
    { name: 'keeps a lone dash as a positional', run: ({ parseArgs, data: { options } }) => parseArgs(['-'], { options }).positionals, expect: ['-'] },
  ],
};
