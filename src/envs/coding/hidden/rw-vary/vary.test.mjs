import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vary from '../index.js';

describe('vary.append', () => {
  it('does not duplicate a field in another case', () => {
    assert.equal(vary.append('Accept', 'accept'), 'Accept');
    assert.equal(vary.append('Accept, Origin', 'ORIGIN'), 'Accept, Origin');
    assert.equal(vary.append('accept-encoding', ['Accept-Encoding', 'User-Agent']), 'accept-encoding, User-Agent');
  });

  it('does not duplicate fields within one call', () => {
    assert.equal(vary.append('', 'Accept, accept, ACCEPT'), 'Accept');
  });

  it('keeps * handling', () => {
    assert.equal(vary.append('Accept', '*'), '*');
    assert.equal(vary.append('*', 'Accept'), '*');
  });

  it('updates the response header without duplicates', () => {
    const headers = { vary: 'Accept-Encoding' };
    const res = { getHeader: (n) => headers[n.toLowerCase()], setHeader: (n, v) => (headers[n.toLowerCase()] = v) };
    vary(res, 'accept-encoding');
    vary(res, 'Origin');
    assert.equal(headers.vary, 'Accept-Encoding, Origin');
  });
});
