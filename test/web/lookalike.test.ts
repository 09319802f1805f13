// Which letters the viewer highlights as passing for others (web/src/components/lookalike.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findLookalikes } from '../../web/src/components/lookalike.ts';

const codes = (text: string) => findLookalikes(text).map(({ at, char }) => `${at}:U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);

describe('look-alike letters', () => {
  it('marks the letter of another script inside a Latin word, where it stands', () => {
    assert.deepEqual(codes('run b\u0430sh now'), ['5:U+0430']);
    assert.deepEqual(codes('sudo r\u03BFot'), ['6:U+03BF']);
    assert.match(findLookalikes('b\u0430sh')[0]!.title, /^U\+0430 Cyrillic letter in a Latin word/);
  });

  it('marks the odd letter out in a word of another script, and the non-Latin ones on a tie', () => {
    assert.deepEqual(codes('Привеt'), ['5:U+0074']);
    assert.deepEqual(codes('\u0430b'), ['0:U+0430']);
    assert.deepEqual(codes('\u0412\u0391\u0405\u041D'), ['1:U+0391'], 'Greek among Cyrillic, with no Latin at all');
  });

  it('leaves whole words of Russian, Greek and accented Latin alone', () => {
    assert.deepEqual(codes('Привет, мир. Καλημέρα κόσμε. école naïve nº 1ª Straße'), []);
    assert.deepEqual(codes('plain ascii only'), []);
  });

  it('always marks fullwidth, mathematical and letterlike forms, each with the letter it reads as', () => {
    assert.deepEqual(codes('\uFF43\uFF41\uFF54'), ['0:U+FF43', '1:U+FF41', '2:U+FF54']);
    assert.deepEqual(codes('/etc/\u{1D429}x'), ['5:U+1D429']);
    assert.deepEqual(codes('\u210Eome'), ['0:U+210E']);
    assert.match(findLookalikes('\uFF43')[0]!.title, /^U\+FF43 fullwidth “c”/);
    assert.match(findLookalikes('\u{1D7CE}')[0]!.title, /^U\+1D7CE mathematical “0”/);
  });
});
