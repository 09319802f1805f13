import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateForm } from '../src/index.js';

const schema = {
  user: [['required'], ['username'], ['length', { min: 3, max: 20 }]],
  email: [['required'], ['email']],
  site: [['url']],
  age: [['number', { min: 13 }]],
};

test('accepts a good signup', () => {
  assert.equal(validateForm({ user: 'ada_l', email: 'ada@example.com', age: '36' }, schema).valid, true);
});

test('rejects a bad signup and names the fields', () => {
  const result = validateForm({ user: 'Ada', email: 'ada.example.com', site: 'ftp://x.org', age: 'x' }, schema);
  assert.equal(result.valid, false);
  assert.deepEqual(Object.keys(result.errors).sort(), ['age', 'email', 'site', 'user']);
});
