import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as s from '../src/index.js';

describe('strkit contracts', () => {
  it('capitalize keeps the rest and handles empty strings', () => {
    assert.equal(s.capitalize('hello World'), 'Hello World');
    assert.equal(s.capitalize('eBay'), 'EBay');
    assert.equal(s.capitalize(''), '');
  });

  it('slugify drops accents and collapses separators', () => {
    assert.equal(s.slugify('  Crème Brûlée -- Recipe #2 '), 'creme-brulee-recipe-2');
    assert.equal(s.slugify('Ünïcödé'), 'unicode');
    assert.equal(s.slugify('---'), '');
  });

  it('truncate fits max including the ellipsis', () => {
    assert.equal(s.truncate('hello world', 8), 'hello w…');
    assert.equal(s.truncate('hello', 5), 'hello');
    assert.equal(s.truncate('hello world', 8, '...'), 'hello...');
  });

  it('center puts the odd character on the right', () => {
    assert.equal(s.center('abc', 8, '-'), '--abc---');
    assert.equal(s.center('abc', 7), '  abc  ');
    assert.equal(s.center('toolong', 3), 'toolong');
  });

  it('camelCase splits on dashes, underscores and spaces', () => {
    assert.equal(s.camelCase('foo-bar_baz qux'), 'fooBarBazQux');
    assert.equal(s.camelCase('__HTTP_status__code'), 'httpStatusCode');
    assert.equal(s.camelCase('already'), 'already');
  });

  it('wordCount counts across any whitespace', () => {
    assert.equal(s.wordCount('  one\ttwo  \n\nthree '), 3);
    assert.equal(s.wordCount(''), 0);
    assert.equal(s.wordCount(' \n '), 0);
  });

  it('reverseWords normalises whitespace', () => {
    assert.equal(s.reverseWords('  the quick\tbrown\nfox '), 'fox brown quick the');
    assert.equal(s.reverseWords('   '), '');
  });

  it('isPalindrome ignores case and punctuation', () => {
    assert.equal(s.isPalindrome('No lemon, no melon'), true);
    assert.equal(s.isPalindrome('Was it a car or a cat I saw?'), true);
    assert.equal(s.isPalindrome('1a2'), false);
    assert.equal(s.isPalindrome('12 21'), true);
  });

  it('stripTags removes all tags and decodes entities', () => {
    assert.equal(s.stripTags('<ul><li>a &amp; b</li><li>&lt;c&gt;</li></ul>'), 'a & b<c>');
    assert.equal(s.stripTags('&amp;lt;'), '&lt;');
  });

  it('wrap keeps every line within the width', () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const lines = s.wrap(text, 10);
    assert.deepEqual(lines, ['the quick', 'brown fox', 'jumps over', 'the lazy', 'dog']);
    assert.deepEqual(s.wrap('a verylongword b', 4), ['a', 'verylongword', 'b']);
  });

  it('escapeRegExp escapes every special character', () => {
    const special = '\\^$.*+?()[]{}|';
    assert.equal(new RegExp(`^${s.escapeRegExp(special)}$`).test(special), true);
    assert.equal(s.escapeRegExp('a.b|c\\d'), 'a\\.b\\|c\\\\d');
  });

  it('initials splits on whitespace and hyphens', () => {
    assert.equal(s.initials('  jean-luc   picard '), 'JLP');
    assert.equal(s.initials('grace hopper'), 'GH');
    assert.equal(s.initials('mary-kate--olsen'), 'MKO');
  });
});
