import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ms from '../index.js';

// Examples from the ms README.
describe('ms(string)', () => {
  it('parses decimals', () => {
    assert.equal(ms('2.5 hrs'), 9000000);
    assert.equal(ms('1.5h'), 5400000);
    assert.equal(ms('.5ms'), 0.5);
    assert.equal(ms('.5s'), 500);
  });

  it('parses negative decimals', () => {
    assert.equal(ms('-1.5h'), -5400000);
    assert.equal(ms('-.5h'), -1800000);
  });

  it('keeps parsing integers and units', () => {
    assert.equal(ms('1d'), 86400000);
    assert.equal(ms('2h'), 7200000);
    assert.equal(ms('1m'), 60000);
    assert.equal(ms('5s'), 5000);
    assert.equal(ms('1y'), 31557600000);
    assert.equal(ms('-3 days'), -259200000);
    assert.equal(ms('-200'), -200);
    assert.equal(ms('53 milliseconds'), 53);
  });

  it('returns undefined for invalid strings', () => {
    assert.equal(ms('☃'), undefined);
    assert.equal(ms('10-.5'), undefined);
    assert.equal(ms('1.2.3s'), undefined);
  });
});

describe('ms(number)', () => {
  it('formats short and long', () => {
    assert.equal(ms(2 * 60000), '2m');
    assert.equal(ms(-3 * 60000), '-3m');
    assert.equal(ms(ms('10 hours')), '10h');
    assert.equal(ms(2 * 60000, { long: true }), '2 minutes');
    assert.equal(ms(ms('10 hours'), { long: true }), '10 hours');
  });
});
