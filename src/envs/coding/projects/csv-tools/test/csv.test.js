import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, stringify } from '../src/index.js';

test('parses plain records', () => {
  assert.deepEqual(parse('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]);
});

test('maps records to objects with a header', () => {
  assert.deepEqual(parse('name,qty\npen,3\n', { header: true }), [{ name: 'pen', qty: '3' }]);
});

test('quotes fields when writing', () => {
  assert.equal(stringify([['a,b', 'say "hi"']]), '"a,b","say ""hi"""\n');
});
