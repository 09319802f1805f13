// Hidden suite for coding/cookie-parse-quotes-duplicates. Each probe runs in the sandbox and returns
// a value; the expectation beside it stays in the grader.
export default {
  imports: { cookie: 'index.js#default' },
  setup: ({ cookie }) => ({ parse: (header) => cookie.parse(header) }),
  cases: [
    {
      name: 'removes the double quotes around a value',
      run: ({ parse }) => [parse('foo="bar=123456789&name=Magic+Mouse"'), parse('email=" ",'), parse('a="b"; c="d e"')],
      expect: [{ foo: 'bar=123456789&name=Magic+Mouse' }, { email: '" ",' }, { a: 'b', c: 'd e' }],
    },
    {
      name: 'keeps the first of duplicate names',
      run: ({ parse }) => [parse('foo=%1;bar=bar;foo=boo'), parse('foo=false;bar=bar;foo=true'), parse('foo=;bar=bar;foo=boo')],
      expect: [{ foo: '%1', bar: 'bar' }, { foo: 'false', bar: 'bar' }, { foo: '', bar: 'bar' }],
    },
    {
      name: 'still decodes and trims',
      run: ({ parse }) => [parse('  foo  =  bar  ;  fizz  =  buzz  '), parse('foo=%20"bar"')],
      expect: [{ foo: 'bar', fizz: 'buzz' }, { foo: ' "bar"' }],
    },
  ],
};
