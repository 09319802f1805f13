// The repo's own tests (test/vary.test.mjs), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { vary: 'index.js#default' },
  cases: [
    { name: 'appends fields', run: ({ vary }) => [vary.append('', 'Origin'), vary.append('Accept', 'Origin, User-Agent')], expect: ['Origin', 'Accept, Origin, User-Agent'] },
    {
      name: 'sets the header on a response',
      run: ({ vary }) => {
        const headers = {};
        const res = { getHeader: (n) => headers[n.toLowerCase()], setHeader: (n, v) => (headers[n.toLowerCase()] = v) };
        vary(res, 'Origin');
        return headers.vary;
      },
      expect: 'Origin',
    },
  ],
};
