// The repo's own tests (test/cookie.test.mjs), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { cookie: 'index.js#default' },
  cases: [
    { name: 'parses a cookie header', run: ({ cookie }) => cookie.parse('foo=bar; equation=E%3Dmc%5E2'), expect: { foo: 'bar', equation: 'E=mc^2' } },
    { name: 'serializes a cookie', run: ({ cookie }) => cookie.serialize('foo', 'bar', { httpOnly: true, path: '/' }), expect: 'foo=bar; Path=/; HttpOnly' },
  ],
};
