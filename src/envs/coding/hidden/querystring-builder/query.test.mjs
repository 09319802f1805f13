// Hidden suite for coding/query-string-encoding. Each probe runs in the sandbox and returns a
// value; the expectation beside it stays in the grader.
export default {
  imports: { q: 'src/query.js' },
  cases: [
    { name: 'percent-encodes keys and values', run: ({ q }) => q.buildQuery({ q: 'fish & chips', 'a b': 'x=y' }), expect: 'q=fish%20%26%20chips&a%20b=x%3Dy' },
    { name: 'repeats the key for arrays', run: ({ q }) => q.buildQuery({ tag: ['a', 'b c'], n: 1 }), expect: 'tag=a&tag=b%20c&n=1' },
    {
      name: 'leaves out undefined and null, also inside arrays',
      run: ({ q }) => q.buildQuery({ a: undefined, b: null, c: 0, d: false, e: [null, 'x', undefined] }),
      expect: 'c=0&d=false&e=x',
    },
    { name: 'keeps empty strings', run: ({ q }) => q.buildQuery({ q: '' }), expect: 'q=' },
    { name: 'encodes unicode', run: ({ q }) => q.buildQuery({ city: 'Zürich' }), expect: 'city=Z%C3%BCrich' },
    { name: 'uses & when the url already has a query', run: ({ q }) => q.withQuery('/items?page=1', { size: 5 }), expect: '/items?page=1&size=5' },
    { name: 'returns the url unchanged when nothing is added', run: ({ q }) => [q.withQuery('/items', {}), q.withQuery('/items', { a: undefined })], expect: ['/items', '/items'] },
  ],
};
