// Hidden suite for coding/formcheck-error-codes. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.

/**
 * Checks a list of rule results: null, or an error object with the code, the message and (when
 * given) the params. Extra fields on the error object are allowed.
 */
function errors(expected) {
  return (actual, assert) => {
    assert.equal(Array.isArray(actual), true, 'the probe returns a list of rule results');
    assert.equal(actual.length, expected.length);
    expected.forEach((want, i) => {
      const got = actual[i];
      if (want === null) return assert.equal(got, null, `result ${i} should be null`);
      const [code, message, params] = want;
      assert.equal(typeof got, 'object', `result ${i}: expected an error object, got ${JSON.stringify(got)}`);
      assert.notEqual(got, null, `result ${i}: expected an error object, got null`);
      assert.equal(got.code, code, `result ${i}: code`);
      assert.equal(got.message, message, `result ${i}: message`);
      if (params !== undefined) assert.deepEqual(got.params, params, `result ${i}: params`);
    });
  };
}

export default {
  imports: { form: 'src/index.js' },
  cases: [
    { name: 'required', run: ({ form }) => [form.rules.required('  '), form.rules.required('x')], check: errors([['required', 'is required'], null]) },
    {
      name: 'email',
      run: ({ form }) => ['a@b@c.com', '@x.com', 'a@localhost', 'a@b.co'].map((v) => form.rules.email(v)),
      check: errors([
        ['email.at', 'must contain exactly one @ with a name before it'],
        ['email.at', 'must contain exactly one @ with a name before it'],
        ['email.domain', 'must have a domain such as example.com'],
        null,
      ]),
    },
    {
      name: 'length with params',
      run: ({ form }) => [form.rules.length('ab', { min: 3 }), form.rules.length('abcdef', { max: 4 }), form.rules.length('abc', { min: 3, max: 3 })],
      check: errors([['length.min', 'must be at least 3 characters', { min: 3 }], ['length.max', 'must be at most 4 characters', { max: 4 }], null]),
    },
    {
      name: 'number with params',
      run: ({ form }) => [form.rules.number('12a'), form.rules.number('3', { min: 5 }), form.rules.number(11, { max: 10 }), form.rules.number('7', { min: 5, max: 10 })],
      check: errors([['number.nan', 'must be a number'], ['number.min', 'must be 5 or more', { min: 5 }], ['number.max', 'must be 10 or less', { max: 10 }], null]),
    },
    {
      name: 'phone',
      run: ({ form }) => ['555-CALL', '12-34', '+1 (555) 010-9999'].map((v) => form.rules.phone(v)),
      check: errors([['phone.chars', 'may only contain digits, spaces, dashes, dots, parentheses and a leading +'], ['phone.digits', 'must have between 7 and 15 digits'], null]),
    },
    {
      name: 'zip',
      run: ({ form }) => ['1234', '00000-1234', '12345-6789'].map((v) => form.rules.zip(v)),
      check: errors([['zip.format', 'must look like 12345 or 12345-6789'], ['zip.reserved', 'is not a real ZIP code'], null]),
    },
    {
      name: 'url',
      run: ({ form }) => ['example.com', 'ftp://example.com', 'https://example.com/x'].map((v) => form.rules.url(v)),
      check: errors([['url.format', 'must be a full URL such as https://example.com'], ['url.protocol', 'must start with http:// or https://'], null]),
    },
    {
      name: 'date with params',
      run: ({ form }) => [form.rules.date('01/02/2024'), form.rules.date('2023-02-29'), form.rules.date('2024-01-01', { notBefore: '2024-06-01' }), form.rules.date('2024-02-29')],
      check: errors([
        ['date.format', 'must be a date written YYYY-MM-DD'],
        ['date.invalid', 'is not a real date'],
        ['date.past', 'must be 2024-06-01 or later', { notBefore: '2024-06-01' }],
        null,
      ]),
    },
    {
      name: 'password',
      run: ({ form }) => ['short1', '1234567890', 'abcdefghij', 'abcdefghi9'].map((v) => form.rules.password(v)),
      check: errors([['password.short', 'must be at least 10 characters'], ['password.letter', 'must contain a letter'], ['password.digit', 'must contain a digit'], null]),
    },
    {
      name: 'username',
      run: ({ form }) => ['Ada', '9lives', 'root', 'ada_99'].map((v) => form.rules.username(v)),
      check: errors([
        ['username.chars', 'may only contain lower-case letters, digits and _'],
        ['username.start', 'must not start with a digit'],
        ['username.reserved', 'is reserved'],
        null,
      ]),
    },
    { name: 'color', run: ({ form }) => ['#12345', '#abc'].map((v) => form.rules.color(v)), check: errors([['color.format', 'must be a hex colour such as #1a2b3c'], null]) },
    {
      name: 'card',
      run: ({ form }) => ['1234 5678', '4111 1111 1111 1112', '4111 1111 1111 1111'].map((v) => form.rules.card(v)),
      check: errors([['card.format', 'must be 12 to 19 digits'], ['card.checksum', 'is not a valid card number'], null]),
    },
    {
      name: 'validate returns the first error object',
      run: ({ form }) => [form.validate('ab', [['required'], ['length', { min: 3 }]]), form.validate('', [['length', { min: 3 }]])],
      check: errors([['length.min', 'must be at least 3 characters', { min: 3 }], null]),
    },
    {
      name: 'validateForm returns error objects and messages',
      run: ({ form }) => {
        const result = form.validateForm({ user: 'Ada', email: 'ada@example.com', age: '9' }, { user: [['required'], ['username']], email: [['email']], age: [['number', { min: 13 }]] });
        return { valid: result.valid, fields: Object.keys(result.errors).sort(), userCode: result.errors.user?.code, ageParams: result.errors.age?.params, messages: result.messages };
      },
      expect: {
        valid: false,
        fields: ['age', 'user'],
        userCode: 'username.chars',
        ageParams: { min: 13 },
        messages: { user: 'may only contain lower-case letters, digits and _', age: 'must be 13 or more' },
      },
    },
    {
      name: 'a valid form has no errors or messages',
      run: ({ form }) => form.validateForm({ email: 'a@b.co' }, { email: [['required'], ['email']] }),
      expect: { valid: true, errors: {}, messages: {} },
    },
  ],
};
