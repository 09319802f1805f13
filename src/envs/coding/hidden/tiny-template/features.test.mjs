// Hidden suite for coding/template-paths-and-raw. Each probe runs in the sandbox and returns a
// value; the expectation beside it stays in the grader.
export default {
  imports: { render: 'src/index.js#render' },
  cases: [
    {
      name: 'looks up dotted paths',
      run: ({ render }) => render('{{ user.name }} ({{user.address.city}})', { user: { name: 'Ada', address: { city: 'London' } } }),
      expect: 'Ada (London)',
    },
    { name: 'indexes arrays with numbers in paths', run: ({ render }) => render('{{items.1.title}}', { items: [{ title: 'a' }, { title: 'b' }] }), expect: 'b' },
    {
      name: 'renders missing values and missing path steps as empty',
      run: ({ render }) => render('[{{nope}}][{{user.nope.deeper}}][{{n}}]', { user: {}, n: null }),
      expect: '[][][]',
    },
    { name: 'keeps falsy values that exist', run: ({ render }) => render('{{zero}}|{{no}}|{{empty}}', { zero: 0, no: false, empty: '' }), expect: '0|false|' },
    {
      name: 'writes triple-brace placeholders without escaping',
      run: ({ render }) => render('<div>{{{ html }}}</div>{{html}}', { html: '<b>x</b>' }),
      expect: '<div><b>x</b></div>&lt;b&gt;x&lt;/b&gt;',
    },
    { name: 'supports dotted paths in raw placeholders', run: ({ render }) => render('{{{page.body}}}', { page: { body: '<p>&amp;</p>' } }), expect: '<p>&amp;</p>' },
    { name: 'still reports an unclosed raw placeholder', run: ({ render }) => render('{{{ x }}', {}), throws: 'SyntaxError' },
    { name: 'still reports an unclosed placeholder', run: ({ render }) => render('a {{ b', {}), throws: 'SyntaxError' },
    { name: 'does not read inherited properties', run: ({ render }) => render('{{constructor}}{{a.toString}}', { a: {} }), expect: '' },
  ],
};
