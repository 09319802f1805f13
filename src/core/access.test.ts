import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserRefusal, hasBearerToken, MAX_JSON_DEPTH, nestsDeeperThan, requiredToken } from './access.ts';
import { InputError } from './errors.ts';

/** `[[[…1…]]]` nested `depth` levels deep. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('server access', () => {
  it('refuses a token with surrounding whitespace at startup: header values arrive trimmed, so no request could match it', () => {
    for (const token of [' padded-token ', 'padded-token\n', '\tpadded-token']) {
      assert.throws(
        () => requiredToken({ host: '127.0.0.1', token, exposes: 'x' }),
        (e: unknown) => e instanceof InputError && e.where === 'token' && /whitespace/.test(e.message),
        JSON.stringify(token),
      );
    }
    assert.equal(requiredToken({ host: '0.0.0.0', token: 'padded-token', exposes: 'x' }), 'padded-token');
    assert.equal(hasBearerToken('Bearer  padded-token ', 'padded-token'), true, 'what a client sends with the trimmed token still matches');
  });

  it('refuses at startup a token of other than printable ASCII, which clients send in different bytes or not at all, without quoting it', () => {
    for (const token of ['tök-XYZZY', 'XYZZY-\u20ac', 'XYZ\u0000ZY', 'XYZ\u007fZY']) {
      assert.throws(
        () => requiredToken({ host: '0.0.0.0', token, exposes: 'x' }),
        (e: unknown) => e instanceof InputError && e.where === 'token' && /other than printable ASCII/.test(e.message) && !e.message.includes('XYZ'),
        JSON.stringify(token),
      );
    }
    assert.equal(requiredToken({ host: '0.0.0.0', token: 'A-z_0.9~!@#$%^&*()', exposes: 'x' }), 'A-z_0.9~!@#$%^&*()');
  });

  it('refuses pages of other origins always, and names other than loopback when no token is required', () => {
    const refusal = (host: string | undefined, origin: string | undefined, tokenRequired = false) => browserRefusal({ host, origin, tokenRequired });
    assert.equal(refusal('127.0.0.1:7422', undefined), null, 'a client that is no browser sends no Origin');
    assert.equal(refusal('localhost:7422', 'http://localhost:7422'), null, 'the server\'s own page');
    assert.equal(refusal('[::1]:7422', 'http://[::1]:7422'), null);
    assert.equal(refusal('127.0.0.1:80', 'http://127.0.0.1'), null, 'the default port, written or not');
    assert.match(refusal('127.0.0.1:7422', 'http://evil.example') ?? '', /other origins \(http:\/\/evil\.example\)/);
    assert.match(refusal('127.0.0.1:7422', 'null') ?? '', /other origins/, 'a sandboxed page');
    assert.match(refusal('127.0.0.1:7422', 'http://127.0.0.1:9999') ?? '', /other origins/, 'another port is another origin');
    assert.match(refusal('evil.example:7422', undefined) ?? '', /host "evil\.example" is not loopback/, 'a rebound DNS name');
    assert.match(refusal(undefined, undefined) ?? '', /not loopback/);
    assert.equal(refusal('gauntlet.internal:7422', undefined, true), null, 'with a token, any name the server is reached by');
    assert.match(refusal('gauntlet.internal:7422', 'http://evil.example', true) ?? '', /other origins/);
  });

  it('tells JSON nested past the limit from JSON within it, at any depth, without recursing', () => {
    assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH)), false);
    assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1)), true);
    assert.equal(nestsDeeperThan({ a: [{ b: nested(MAX_JSON_DEPTH - 3) }] }), false);
    assert.equal(nestsDeeperThan({ a: [{ b: nested(MAX_JSON_DEPTH - 2) }] }), true);
    assert.equal(nestsDeeperThan(nested(1_000_000)), true);
    for (const flat of [null, 1, 'text', [], {}, [1, 2, { a: 'b' }]]) assert.equal(nestsDeeperThan(flat), false, JSON.stringify(flat));
  });
});
