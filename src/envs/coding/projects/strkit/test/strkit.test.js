import assert from 'node:assert/strict';
import { test } from 'node:test';
import { camelCase } from '../src/camel-case.js';
import { capitalize } from '../src/capitalize.js';
import { center } from '../src/center.js';
import { escapeRegExp } from '../src/escape-regexp.js';
import { initials } from '../src/initials.js';
import { isPalindrome } from '../src/palindrome.js';
import { reverseWords } from '../src/reverse-words.js';
import { slugify } from '../src/slugify.js';
import { stripTags } from '../src/strip-tags.js';
import { truncate } from '../src/truncate.js';
import { wordCount } from '../src/word-count.js';
import { wrap } from '../src/wrap.js';

test('camelCase: splits on underscores', () => {
  assert.equal(camelCase('max_retry-count'), 'maxRetryCount');
});

test('capitalize: capitalizes only the first character', () => {
  assert.equal(capitalize('iPhone'), 'IPhone');
});

test('center: puts the extra padding on the right', () => {
  assert.equal(center('ab', 5, '*'), '*ab**');
});

test('escapeRegExp: escapes the pipe', () => {
  assert.equal(new RegExp(escapeRegExp('a|b')).test('a'), false);
});

test('initials: splits hyphenated names', () => {
  assert.equal(initials('ada king-lovelace'), 'AKL');
});

test('isPalindrome: ignores punctuation', () => {
  assert.equal(isPalindrome('A man, a plan, a canal: Panama'), true);
});

test('reverseWords: reverses words separated by several spaces', () => {
  assert.equal(reverseWords('a  b c'), 'c b a');
});

test('slugify: collapses separators', () => {
  assert.equal(slugify('Hello,  World!'), 'hello-world');
});

test('stripTags: removes every tag', () => {
  assert.equal(stripTags('<p>Hi <b>there</b></p>'), 'Hi there');
});

test('truncate: keeps the result within max', () => {
  assert.equal(truncate('abcdefghij', 5), 'abcd…');
});

test('wordCount: counts words across lines', () => {
  assert.equal(wordCount('one two\nthree'), 3);
});

test('wrap: never exceeds the width', () => {
  assert.deepEqual(wrap('aaa bbbb cc', 7), ['aaa', 'bbbb cc']);
});
