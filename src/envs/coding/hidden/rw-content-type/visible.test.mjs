// The repo's own tests (test/content-type.test.mjs), judged in the grader: run in the sandbox, they
// could be patched or rewritten by the code they test.
export default {
  imports: { contentType: 'index.js#default' },
  cases: [
    {
      name: 'parses a type with a parameter',
      run: ({ contentType }) => {
        const obj = contentType.parse('text/html; charset=utf-8');
        return [obj.type, { ...obj.parameters }];
      },
      expect: ['text/html', { charset: 'utf-8' }],
    },
    {
      name: 'formats',
      run: ({ contentType }) => contentType.format({ type: 'image/svg+xml', parameters: { charset: 'utf-8' } }),
      expect: 'image/svg+xml; charset=utf-8',
    },
  ],
};
