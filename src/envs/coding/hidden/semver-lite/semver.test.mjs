// Hidden suite for coding/semver-precedence. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { semver: 'src/index.js' },
  data: {
    chain: ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'],
  },
  cases: [
    {
      name: 'compares numbers numerically',
      run: ({ semver }) => [semver.compare('1.10.0', '1.9.0'), semver.compare('10.0.0', '9.99.99'), semver.compare('0.0.9', '0.0.10')],
      expect: [1, 1, -1],
    },
    {
      name: 'puts a pre-release below its release',
      run: ({ semver }) => [semver.compare('1.0.0-rc.1', '1.0.0'), semver.compare('1.0.0', '1.0.0-alpha')],
      expect: [-1, 1],
    },
    {
      name: 'follows the spec example chain',
      run: ({ semver, data: { chain } }) => {
        const steps = [];
        for (let i = 0; i + 1 < chain.length; i++) steps.push(semver.compare(chain[i], chain[i + 1]));
        const shuffled = [chain[5], chain[7], chain[0], chain[3], chain[6], chain[1], chain[4], chain[2]];
        return { steps, sorted: semver.sort(shuffled) };
      },
      expect: {
        steps: [-1, -1, -1, -1, -1, -1, -1],
        sorted: ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'],
      },
    },
    {
      name: 'numeric identifiers are lower than alphanumeric ones',
      run: ({ semver }) => [semver.compare('1.0.0-1', '1.0.0-alpha'), semver.compare('1.0.0-alpha.9', '1.0.0-alpha.x')],
      expect: [-1, -1],
    },
    {
      name: 'ignores build metadata',
      run: ({ semver }) => [semver.compare('1.0.0+build.1', '1.0.0+build.2'), semver.compare('1.0.0-rc.1+x', '1.0.0-rc.1')],
      expect: [0, 0],
    },
    { name: 'finds the highest release', run: ({ semver }) => semver.max(['1.9.0', '1.10.0-rc.1', '1.10.0', '1.2.0']), expect: '1.10.0' },
  ],
};
