import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import contentType from '../index.js';

describe('contentType.parse', () => {
  it('lower-cases parameter names', () => {
    assert.deepEqual({ ...contentType.parse('text/html; Charset=UTF-8').parameters }, { charset: 'UTF-8' });
    assert.deepEqual({ ...contentType.parse('text/html; CHARSET="utf-8"; Foo=Bar').parameters }, { charset: 'utf-8', foo: 'Bar' });
  });

  it('lower-cases the type', () => {
    assert.equal(contentType.parse('IMAGE/SVG+xml').type, 'image/svg+xml');
  });

  it('removes every escape in a quoted value', () => {
    assert.equal(contentType.parse('text/plain; x="a\\"b\\"c"').parameters.x, 'a"b"c');
    assert.equal(contentType.parse('text/plain; x="\\\\\\\\"').parameters.x, '\\\\');
    assert.equal(contentType.parse('text/plain; x="a\\bc\\d"').parameters.x, 'abcd');
  });

  it('still rejects invalid parameters', () => {
    assert.throws(() => contentType.parse('text/plain; foo="bar'), /invalid parameter format/);
    assert.throws(() => contentType.parse('text/plain; =bar'), /invalid parameter format/);
  });

  it('reads request-like objects', () => {
    assert.equal(contentType.parse({ headers: { 'content-type': 'application/json; Charset=utf-8' } }).parameters.charset, 'utf-8');
  });
});
