// Hidden suite for coding/vary-case-insensitive. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { vary: 'index.js#default' },
  cases: [
    {
      name: 'does not duplicate a field in another case',
      run: ({ vary }) => [vary.append('Accept', 'accept'), vary.append('Accept, Origin', 'ORIGIN'), vary.append('accept-encoding', ['Accept-Encoding', 'User-Agent'])],
      expect: ['Accept', 'Accept, Origin', 'accept-encoding, User-Agent'],
    },
    { name: 'does not duplicate fields within one call', run: ({ vary }) => vary.append('', 'Accept, accept, ACCEPT'), expect: 'Accept' },
    { name: 'keeps * handling', run: ({ vary }) => [vary.append('Accept', '*'), vary.append('*', 'Accept')], expect: ['*', '*'] },
    {
      name: 'updates the response header without duplicates',
      run: ({ vary }) => {
        const headers = { vary: 'Accept-Encoding' };
        const res = { getHeader: (n) => headers[n.toLowerCase()], setHeader: (n, v) => (headers[n.toLowerCase()] = v) };
        vary(res, 'accept-encoding');
        vary(res, 'Origin');
        return headers.vary;
      },
      expect: 'Accept-Encoding, Origin',
    },
  ],
};
