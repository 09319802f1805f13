// The repo's own tests (test/form.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { validateForm: 'src/index.js#validateForm' },
  data: {
    schema: {
      user: [['required'], ['username'], ['length', { min: 3, max: 20 }]],
      email: [['required'], ['email']],
      site: [['url']],
      age: [['number', { min: 13 }]],
    },
  },
  cases: [
    { name: 'accepts a good signup', run: ({ validateForm, data: { schema } }) => validateForm({ user: 'ada_l', email: 'ada@example.com', age: '36' }, schema).valid, expect: true },
    {
      name: 'rejects a bad signup and names the fields',
      run: ({ validateForm, data: { schema } }) => {
        const result = validateForm({ user: 'Ada', email: 'ada.example.com', site: 'ftp://x.org', age: 'x' }, schema);
        return [result.valid, Object.keys(result.errors).sort()];
      },
      expect: [false, ['age', 'email', 'site', 'user']],
    },
  ],
};
