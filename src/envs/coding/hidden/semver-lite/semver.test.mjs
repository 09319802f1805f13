import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, max, sort } from '../src/index.js';

describe('semver precedence', () => {
  it('compares numbers numerically', () => {
    assert.equal(compare('1.10.0', '1.9.0'), 1);
    assert.equal(compare('10.0.0', '9.99.99'), 1);
    assert.equal(compare('0.0.9', '0.0.10'), -1);
  });

  it('puts a pre-release below its release', () => {
    assert.equal(compare('1.0.0-rc.1', '1.0.0'), -1);
    assert.equal(compare('1.0.0', '1.0.0-alpha'), 1);
  });

  it('follows the spec example chain', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    for (let i = 0; i + 1 < chain.length; i++) assert.equal(compare(chain[i], chain[i + 1]), -1, `${chain[i]} < ${chain[i + 1]}`);
    const shuffled = [chain[5], chain[7], chain[0], chain[3], chain[6], chain[1], chain[4], chain[2]];
    assert.deepEqual(sort(shuffled), chain);
  });

  it('numeric identifiers are lower than alphanumeric ones', () => {
    assert.equal(compare('1.0.0-1', '1.0.0-alpha'), -1);
    assert.equal(compare('1.0.0-alpha.9', '1.0.0-alpha.x'), -1);
  });

  it('ignores build metadata', () => {
    assert.equal(compare('1.0.0+build.1', '1.0.0+build.2'), 0);
    assert.equal(compare('1.0.0-rc.1+x', '1.0.0-rc.1'), 0);
  });

  it('finds the highest release', () => {
    assert.equal(max(['1.9.0', '1.10.0-rc.1', '1.10.0', '1.2.0']), '1.10.0');
  });
});
