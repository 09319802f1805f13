import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDateTime } from '../src/datetime.js';
import { durationMinutes, overlaps, parseRange } from '../src/range.js';

const iso = (d) => d.toISOString();

describe('time zone offsets', () => {
  it('accepts Z', () => {
    assert.equal(iso(parseDateTime('2024-03-01T10:00Z')), '2024-03-01T10:00:00.000Z');
  });

  it('applies positive and negative offsets', () => {
    assert.equal(iso(parseDateTime('2024-03-01T10:00+02:00')), '2024-03-01T08:00:00.000Z');
    assert.equal(iso(parseDateTime('2024-03-01T22:30:15-05:00')), '2024-03-02T03:30:15.000Z');
  });

  it('applies offsets with minutes and without a colon', () => {
    assert.equal(iso(parseDateTime('2024-03-01T10:00+05:30')), '2024-03-01T04:30:00.000Z');
    assert.equal(iso(parseDateTime('2024-03-01T10:00+0530')), '2024-03-01T04:30:00.000Z');
  });

  it('rejects impossible offsets', () => {
    assert.throws(() => parseDateTime('2024-03-01T10:00+25:00'), /invalid/);
    assert.throws(() => parseDateTime('2024-03-01T10:00+02:75'), /invalid/);
    assert.throws(() => parseDateTime('2024-03-01T10:00+2'), /invalid/);
  });

  it('still treats times without a zone as UTC', () => {
    assert.equal(iso(parseDateTime('2024-03-01T10:00')), '2024-03-01T10:00:00.000Z');
  });

  it('parses ranges whose sides have different zones', () => {
    const r = parseRange('2024-03-01T10:00+01:00/2024-03-01T10:00-01:00');
    assert.equal(durationMinutes(r), 120);
  });

  it('a time-only end takes the start zone', () => {
    const r = parseRange('2024-03-01T23:00+02:00/23:45');
    assert.equal(iso(r.start), '2024-03-01T21:00:00.000Z');
    assert.equal(iso(r.end), '2024-03-01T21:45:00.000Z');
  });

  it('a time-only end may carry its own zone', () => {
    const r = parseRange('2024-03-01T10:00Z/12:00+01:00');
    assert.equal(iso(r.end), '2024-03-01T11:00:00.000Z');
  });

  it('compares zoned ranges by instant', () => {
    const a = parseRange('2024-03-01T10:00+02:00/11:00');
    const b = parseRange('2024-03-01T08:30Z/09:30Z');
    assert.equal(overlaps(a, b), true);
    assert.throws(() => parseRange('2024-03-01T10:00Z/2024-03-01T11:00+02:00'), /before/);
  });
});
