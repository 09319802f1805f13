// The repo's own tests (test/render.test.js), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { t: 'src/index.js' },
  cases: [
    { name: 'fills placeholders', run: ({ t }) => t.render('Hello, {{ name }}!', { name: 'Ada' }), expect: 'Hello, Ada!' },
    {
      name: 'escapes html',
      run: ({ t }) => t.render('<p>{{x}}</p>', { x: '<b>"hi" & bye</b>' }),
      expect: '<p>&lt;b&gt;&quot;hi&quot; &amp; bye&lt;/b&gt;</p>',
    },
    {
      name: 'compiles once, renders many times',
      run: ({ t }) => {
        const hello = t.compile('hi {{n}}');
        return hello({ n: 1 }) + hello({ n: 2 });
      },
      expect: 'hi 1hi 2',
    },
  ],
};
