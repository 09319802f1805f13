import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect, isDeepStrictEqual } from 'node:util';
// The encoder is the sandbox side's own code; here it runs on plain test values.
import { describeThrown, encodeValue } from './sandbox/worker.mjs';
import { decodeValue, Opaque, WireError } from './wire.ts';

/** Through the wire as the supervisor sends it: encoded, JSON text, parsed, decoded. */
const roundTrip = (value: unknown): unknown => decodeValue(JSON.parse(JSON.stringify(encodeValue(value))));

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('probe values on the wire', () => {
  it('rebuilds values that plain JSON would lose or blur, strictly equal to the original', () => {
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const values: unknown[] = [
      undefined,
      null,
      Number.NaN,
      -0,
      Number.POSITIVE_INFINITY,
      12n ** 30n,
      'text',
      [1, undefined, 'x'],
      sparse,
      { a: undefined, b: [{ c: -0 }] },
      Object.assign(Object.create(null) as object, { k: 1 }),
      new Date('2024-03-01T10:00:00Z'),
      /a+b/gi,
      new Map<unknown, unknown>([['k', [1]], [2, { v: true }]]),
      new Set([1, 'two', null]),
    ];
    for (const value of values) assert.ok(isDeepStrictEqual(roundTrip(value), value), `${inspect(value)} changed on the way`);
    const invalid = roundTrip(new Date(Number.NaN));
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()));
  });

  it('keeps the difference between undefined and a hole, and between 0 and -0', () => {
    assert.equal(isDeepStrictEqual(roundTrip([undefined]), [,]), false); // eslint-disable-line no-sparse-arrays
    assert.equal(Object.is(roundTrip(-0), -0), true);
    assert.equal(isDeepStrictEqual(roundTrip({ a: 0 }), { a: -0 }), false);
  });

  it('never makes a class instance equal to a plain object with the same fields', () => {
    const point = roundTrip(new Point(1, 2));
    assert.equal(isDeepStrictEqual(point, { x: 1, y: 2 }), false);
    assert.ok(isDeepStrictEqual(point, roundTrip(new Point(1, 2))));
  });

  it('keeps errors with their name, message and own fields', () => {
    const error = Object.assign(new RangeError('too big'), { code: 'E_BIG' });
    const back = roundTrip(error) as Error & { code: string };
    assert.equal(back.name, 'RangeError');
    assert.equal(back.message, 'too big');
    assert.equal(back.code, 'E_BIG');
  });

  it('turns functions and cycles into opaque values that equal nothing expected', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const back = roundTrip({ f: function named() {}, cyclic }) as { f: unknown; cyclic: { self: unknown } };
    assert.ok(back.f instanceof Opaque);
    assert.ok(back.cyclic.self instanceof Opaque);
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const back = decodeValue({ t: 'object', proto: 'Object', entries: [['__proto__', { t: 'object', proto: 'Object', entries: [['polluted', true]] }]] }) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.ok(Object.hasOwn(back, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('rejects anything but the documented shapes, and values too deep to be honest', () => {
    const bad: unknown[] = [{ t: 'eval', v: '1' }, [1, 2], { t: 'number', v: '1e3' }, { t: 'bigint', v: '12abc' }, { t: 'object', proto: 'Object', entries: [[1, 2]] }, { t: 'date', ms: 'soon' }];
    for (const wire of bad) assert.throws(() => decodeValue(wire), WireError, JSON.stringify(wire));
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = { t: 'array', items: [deep] };
    assert.throws(() => decodeValue(deep), /nested deeper/);
  });

  it('refuses to encode values past its limits instead of hanging', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    assert.throws(() => encodeValue(deep), /nested deeper/);
    assert.throws(() => encodeValue(Array.from({ length: 60_000 }, (_, i) => i)), /more than/);
  });

  it('describes anything thrown without throwing itself', () => {
    assert.deepEqual(describeThrown(new TypeError('bad')), { name: 'TypeError', message: 'bad' });
    assert.deepEqual(describeThrown('plain'), { name: 'string', message: 'plain' });
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('no');
      },
    });
    assert.deepEqual(describeThrown(hostile), { name: 'Error', message: '(unprintable)' });
  });
});
