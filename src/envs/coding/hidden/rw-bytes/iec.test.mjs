import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bytes from '../index.js';

describe('IEC units', () => {
  it('parses KiB to PiB', () => {
    assert.equal(bytes.parse('1KiB'), 1024);
    assert.equal(bytes.parse('1.5 MiB'), 1572864);
    assert.equal(bytes.parse('2GiB'), 2147483648);
    assert.equal(bytes.parse('1TiB'), Math.pow(1024, 4));
    assert.equal(bytes.parse('1PiB'), Math.pow(1024, 5));
  });

  it('ignores case', () => {
    assert.equal(bytes.parse('1kib'), 1024);
    assert.equal(bytes.parse('1MIB'), 1048576);
    assert.equal(bytes('3 gib'), 3221225472);
  });

  it('keeps the existing units and numbers', () => {
    assert.equal(bytes.parse('1KB'), 1024);
    assert.equal(bytes.parse('1 mb'), 1048576);
    assert.equal(bytes.parse('-1.5kb'), -1536);
    assert.equal(bytes.parse('1024'), 1024);
    assert.equal(bytes.parse(42), 42);
    assert.equal(bytes.parse('foo'), null);
  });

  it('formats as before', () => {
    assert.equal(bytes(1024), '1KB');
    assert.equal(bytes(1536, { unitSeparator: ' ' }), '1.5 KB');
    assert.equal(bytes(1000, { thousandsSeparator: ',', unit: 'B' }), '1,000B');
  });
});
