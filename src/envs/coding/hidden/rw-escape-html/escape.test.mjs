import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import escapeHtml from '../index.js';

describe('escapeHtml', () => {
  it('escapes a lone apostrophe', () => {
    assert.equal(escapeHtml("it's"), 'it&#39;s');
    assert.equal(escapeHtml("'"), '&#39;');
  });

  it('escapes each special character on its own', () => {
    assert.equal(escapeHtml('"'), '&quot;');
    assert.equal(escapeHtml('&'), '&amp;');
    assert.equal(escapeHtml('<'), '&lt;');
    assert.equal(escapeHtml('>'), '&gt;');
  });

  it('escapes mixed text', () => {
    assert.equal(escapeHtml("<p class='x'>a & b</p>"), '&lt;p class=&#39;x&#39;&gt;a &amp; b&lt;/p&gt;');
    assert.equal(escapeHtml("don't & won't"), 'don&#39;t &amp; won&#39;t');
  });

  it('stringifies other values', () => {
    assert.equal(escapeHtml(42), '42');
    assert.equal(escapeHtml(null), 'null');
  });
});
