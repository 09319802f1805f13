import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from '../src/index.js';

describe('dotted paths, raw output and missing values', () => {
  it('looks up dotted paths', () => {
    assert.equal(render('{{ user.name }} ({{user.address.city}})', { user: { name: 'Ada', address: { city: 'London' } } }), 'Ada (London)');
  });

  it('indexes arrays with numbers in paths', () => {
    assert.equal(render('{{items.1.title}}', { items: [{ title: 'a' }, { title: 'b' }] }), 'b');
  });

  it('renders missing values and missing path steps as empty', () => {
    assert.equal(render('[{{nope}}][{{user.nope.deeper}}][{{n}}]', { user: {}, n: null }), '[][][]');
  });

  it('keeps falsy values that exist', () => {
    assert.equal(render('{{zero}}|{{no}}|{{empty}}', { zero: 0, no: false, empty: '' }), '0|false|');
  });

  it('writes triple-brace placeholders without escaping', () => {
    assert.equal(render('<div>{{{ html }}}</div>{{html}}', { html: '<b>x</b>' }), '<div><b>x</b></div>&lt;b&gt;x&lt;/b&gt;');
  });

  it('supports dotted paths in raw placeholders', () => {
    assert.equal(render('{{{page.body}}}', { page: { body: '<p>&amp;</p>' } }), '<p>&amp;</p>');
  });

  it('still reports unclosed placeholders', () => {
    assert.throws(() => render('{{{ x }}', {}), SyntaxError);
    assert.throws(() => render('a {{ b', {}), SyntaxError);
  });

  it('does not read inherited properties', () => {
    assert.equal(render('{{constructor}}{{a.toString}}', { a: {} }), '');
  });
});
