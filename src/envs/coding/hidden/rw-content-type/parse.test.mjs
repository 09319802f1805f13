// Hidden suite for coding/content-type-params. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { contentType: 'index.js#default' },
  cases: [
    {
      name: 'lower-cases parameter names',
      run: ({ contentType }) => [{ ...contentType.parse('text/html; Charset=UTF-8').parameters }, { ...contentType.parse('text/html; CHARSET="utf-8"; Foo=Bar').parameters }],
      expect: [{ charset: 'UTF-8' }, { charset: 'utf-8', foo: 'Bar' }],
    },
    { name: 'lower-cases the type', run: ({ contentType }) => contentType.parse('IMAGE/SVG+xml').type, expect: 'image/svg+xml' },
    {
      name: 'removes every escape in a quoted value',
      run: ({ contentType }) => ['text/plain; x="a\\"b\\"c"', 'text/plain; x="\\\\\\\\"', 'text/plain; x="a\\bc\\d"'].map((s) => contentType.parse(s).parameters.x),
      expect: ['a"b"c', '\\\\', 'abcd'],
    },
    { name: 'still rejects an unterminated quoted value', run: ({ contentType }) => contentType.parse('text/plain; foo="bar'), throws: /invalid parameter format/ },
    { name: 'still rejects a parameter without a name', run: ({ contentType }) => contentType.parse('text/plain; =bar'), throws: /invalid parameter format/ },
    {
      name: 'reads request-like objects',
      run: ({ contentType }) => contentType.parse({ headers: { 'content-type': 'application/json; Charset=utf-8' } }).parameters.charset,
      expect: 'utf-8',
    },
  ],
};
