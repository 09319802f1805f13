// Hidden suite for coding/minimist-false-values. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { parse: 'index.js#default' },
  cases: [
    {
      name: '--no-flag sets the flag to boolean false',
      run: ({ parse }) => [parse(['--no-color', 'x']), parse(['--no-moo'], { boolean: ['moo'] }).moo],
      expect: [{ _: ['x'], color: false }, false],
    },
    {
      name: '--flag=false gives false for boolean options',
      run: ({ parse }) => ['--debug=false', '--debug=true', '--debug=0'].map((arg) => parse([arg], { boolean: ['debug'] }).debug),
      expect: [false, true, true],
    },
    { name: '--name=false stays a string for other options', run: ({ parse }) => parse(['--mode=false']).mode, expect: 'false' },
    {
      name: 'aliases see the same value',
      run: ({ parse }) => {
        const argv = parse(['--no-verbose'], { alias: { v: 'verbose' } });
        return [argv.verbose, argv.v];
      },
      expect: [false, false],
    },
  ],
};
