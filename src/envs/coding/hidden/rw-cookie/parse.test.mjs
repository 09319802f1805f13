import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cookie from '../index.js';

describe('cookie.parse', () => {
  it('removes the double quotes around a value', () => {
    assert.deepEqual(cookie.parse('foo="bar=123456789&name=Magic+Mouse"'), { foo: 'bar=123456789&name=Magic+Mouse' });
    assert.deepEqual(cookie.parse('email=" ",'), { email: '" ",' });
    assert.deepEqual(cookie.parse('a="b"; c="d e"'), { a: 'b', c: 'd e' });
  });

  it('keeps the first of duplicate names', () => {
    assert.deepEqual(cookie.parse('foo=%1;bar=bar;foo=boo'), { foo: '%1', bar: 'bar' });
    assert.deepEqual(cookie.parse('foo=false;bar=bar;foo=true'), { foo: 'false', bar: 'bar' });
    assert.deepEqual(cookie.parse('foo=;bar=bar;foo=boo'), { foo: '', bar: 'bar' });
  });

  it('still decodes and trims', () => {
    assert.deepEqual(cookie.parse('  foo  =  bar  ;  fizz  =  buzz  '), { foo: 'bar', fizz: 'buzz' });
    assert.deepEqual(cookie.parse('foo=%20"bar"'), { foo: ' "bar"' });
  });
});
