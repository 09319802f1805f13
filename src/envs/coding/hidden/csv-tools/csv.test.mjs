import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from '../src/index.js';

describe('quoted fields', () => {
  it('keeps delimiters inside quotes', () => {
    assert.deepEqual(parse('"Smith, Jane",42\n'), [['Smith, Jane', '42']]);
  });

  it('unescapes doubled quotes', () => {
    assert.deepEqual(parse('"say ""hi""",x\n'), [['say "hi"', 'x']]);
  });

  it('keeps line breaks inside quotes', () => {
    assert.deepEqual(parse('id,note\n1,"line one\nline two"\n2,ok\n'), [['id', 'note'], ['1', 'line one\nline two'], ['2', 'ok']]);
  });

  it('accepts CRLF line ends', () => {
    assert.deepEqual(parse('a,b\r\n1,"x\r\ny"\r\n'), [['a', 'b'], ['1', 'x\r\ny']]);
  });

  it('handles empty and quoted empty fields', () => {
    assert.deepEqual(parse(',""\n"",\n'), [['', ''], ['', '']]);
  });

  it('parses without a final line break', () => {
    assert.deepEqual(parse('a,"b"'), [['a', 'b']]);
  });

  it('uses another delimiter', () => {
    assert.deepEqual(parse('a;"b;c"\n', { delimiter: ';' }), [['a', 'b;c']]);
  });

  it('maps quoted records to objects', () => {
    assert.deepEqual(parse('name,"notes, misc"\n"Doe, J","a\nb"\n', { header: true }), [{ name: 'Doe, J', 'notes, misc': 'a\nb' }]);
  });

  it('round-trips stringify', () => {
    const rows = [['plain', 'with, comma', 'with "quote"', 'multi\nline', ''], ['x', '', '""', ' spaced ', 'end']];
    assert.deepEqual(parse(stringify(rows)), rows);
  });
});
