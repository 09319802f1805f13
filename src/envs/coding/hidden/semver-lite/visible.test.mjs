// The repo's own tests (test/semver.test.js), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { semver: 'src/index.js' },
  cases: [
    {
      name: 'parses a full version',
      run: ({ semver }) => {
        const v = semver.parse('1.2.3-beta.1+build.7');
        return [v.prerelease, v.build];
      },
      expect: [['beta', '1'], ['build', '7']],
    },
    {
      name: 'orders simple versions',
      run: ({ semver }) => [semver.compare('1.2.3', '1.2.4'), semver.compare('2.0.0', '1.9.9'), semver.compare('1.0.0', '1.0.0'), semver.sort(['1.1.0', '1.0.1', '1.0.0'])],
      expect: [-1, 1, 0, ['1.0.0', '1.0.1', '1.1.0']],
    },
  ],
};
