import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildQuery, withQuery } from '../src/query.js';

describe('buildQuery', () => {
  it('percent-encodes keys and values', () => {
    assert.equal(buildQuery({ q: 'fish & chips', 'a b': 'x=y' }), 'q=fish%20%26%20chips&a%20b=x%3Dy');
  });

  it('repeats the key for arrays', () => {
    assert.equal(buildQuery({ tag: ['a', 'b c'], n: 1 }), 'tag=a&tag=b%20c&n=1');
  });

  it('leaves out undefined and null, also inside arrays', () => {
    assert.equal(buildQuery({ a: undefined, b: null, c: 0, d: false, e: [null, 'x', undefined] }), 'c=0&d=false&e=x');
  });

  it('keeps empty strings', () => {
    assert.equal(buildQuery({ q: '' }), 'q=');
  });

  it('encodes unicode', () => {
    assert.equal(buildQuery({ city: 'Zürich' }), 'city=Z%C3%BCrich');
  });
});

describe('withQuery', () => {
  it('uses & when the url already has a query', () => {
    assert.equal(withQuery('/items?page=1', { size: 5 }), '/items?page=1&size=5');
  });

  it('returns the url unchanged when nothing is added', () => {
    assert.equal(withQuery('/items', {}), '/items');
    assert.equal(withQuery('/items', { a: undefined }), '/items');
  });
});
