import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rules, validate, validateForm } from '../src/index.js';

const { card, color, date, email, length, number, password, phone, required, url, username, zip } = rules;

function expectError(actual, code, message, params) {
  assert.equal(typeof actual, 'object', `expected an error object, got ${JSON.stringify(actual)}`);
  assert.notEqual(actual, null);
  assert.equal(actual.code, code);
  assert.equal(actual.message, message);
  if (params !== undefined) assert.deepEqual(actual.params, params);
}

describe('error objects', () => {
  it('required', () => {
    expectError(required('  '), 'required', 'is required');
    assert.equal(required('x'), null);
  });

  it('email', () => {
    expectError(email('a@b@c.com'), 'email.at', 'must contain exactly one @ with a name before it');
    expectError(email('@x.com'), 'email.at', 'must contain exactly one @ with a name before it');
    expectError(email('a@localhost'), 'email.domain', 'must have a domain such as example.com');
    assert.equal(email('a@b.co'), null);
  });

  it('length with params', () => {
    expectError(length('ab', { min: 3 }), 'length.min', 'must be at least 3 characters', { min: 3 });
    expectError(length('abcdef', { max: 4 }), 'length.max', 'must be at most 4 characters', { max: 4 });
    assert.equal(length('abc', { min: 3, max: 3 }), null);
  });

  it('number with params', () => {
    expectError(number('12a'), 'number.nan', 'must be a number');
    expectError(number('3', { min: 5 }), 'number.min', 'must be 5 or more', { min: 5 });
    expectError(number(11, { max: 10 }), 'number.max', 'must be 10 or less', { max: 10 });
    assert.equal(number('7', { min: 5, max: 10 }), null);
  });

  it('phone', () => {
    expectError(phone('555-CALL'), 'phone.chars', 'may only contain digits, spaces, dashes, dots, parentheses and a leading +');
    expectError(phone('12-34'), 'phone.digits', 'must have between 7 and 15 digits');
    assert.equal(phone('+1 (555) 010-9999'), null);
  });

  it('zip', () => {
    expectError(zip('1234'), 'zip.format', 'must look like 12345 or 12345-6789');
    expectError(zip('00000-1234'), 'zip.reserved', 'is not a real ZIP code');
    assert.equal(zip('12345-6789'), null);
  });

  it('url', () => {
    expectError(url('example.com'), 'url.format', 'must be a full URL such as https://example.com');
    expectError(url('ftp://example.com'), 'url.protocol', 'must start with http:// or https://');
    assert.equal(url('https://example.com/x'), null);
  });

  it('date with params', () => {
    expectError(date('01/02/2024'), 'date.format', 'must be a date written YYYY-MM-DD');
    expectError(date('2023-02-29'), 'date.invalid', 'is not a real date');
    expectError(date('2024-01-01', { notBefore: '2024-06-01' }), 'date.past', 'must be 2024-06-01 or later', { notBefore: '2024-06-01' });
    assert.equal(date('2024-02-29'), null);
  });

  it('password', () => {
    expectError(password('short1'), 'password.short', 'must be at least 10 characters');
    expectError(password('1234567890'), 'password.letter', 'must contain a letter');
    expectError(password('abcdefghij'), 'password.digit', 'must contain a digit');
    assert.equal(password('abcdefghi9'), null);
  });

  it('username', () => {
    expectError(username('Ada'), 'username.chars', 'may only contain lower-case letters, digits and _');
    expectError(username('9lives'), 'username.start', 'must not start with a digit');
    expectError(username('root'), 'username.reserved', 'is reserved');
    assert.equal(username('ada_99'), null);
  });

  it('color', () => {
    expectError(color('#12345'), 'color.format', 'must be a hex colour such as #1a2b3c');
    assert.equal(color('#abc'), null);
  });

  it('card', () => {
    expectError(card('1234 5678'), 'card.format', 'must be 12 to 19 digits');
    expectError(card('4111 1111 1111 1112'), 'card.checksum', 'is not a valid card number');
    assert.equal(card('4111 1111 1111 1111'), null);
  });
});

describe('forms', () => {
  it('validate returns the first error object', () => {
    expectError(validate('ab', [['required'], ['length', { min: 3 }]]), 'length.min', 'must be at least 3 characters', { min: 3 });
    assert.equal(validate('', [['length', { min: 3 }]]), null);
  });

  it('validateForm returns error objects and messages', () => {
    const result = validateForm({ user: 'Ada', email: 'ada@example.com', age: '9' }, { user: [['required'], ['username']], email: [['email']], age: [['number', { min: 13 }]] });
    assert.equal(result.valid, false);
    assert.deepEqual(Object.keys(result.errors).sort(), ['age', 'user']);
    assert.equal(result.errors.user.code, 'username.chars');
    assert.deepEqual(result.errors.age.params, { min: 13 });
    assert.deepEqual(result.messages, { user: 'may only contain lower-case letters, digits and _', age: 'must be 13 or more' });
  });

  it('a valid form has no errors or messages', () => {
    assert.deepEqual(validateForm({ email: 'a@b.co' }, { email: [['required'], ['email']] }), { valid: true, errors: {}, messages: {} });
  });
});
