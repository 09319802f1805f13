import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import parse from '../index.js';

describe('false values', () => {
  it('--no-flag sets the flag to boolean false', () => {
    assert.deepEqual(parse(['--no-color', 'x']), { _: ['x'], color: false });
    assert.strictEqual(parse(['--no-moo'], { boolean: ['moo'] }).moo, false);
  });

  it('--flag=false gives false for boolean options', () => {
    assert.strictEqual(parse(['--debug=false'], { boolean: ['debug'] }).debug, false);
    assert.strictEqual(parse(['--debug=true'], { boolean: ['debug'] }).debug, true);
    assert.strictEqual(parse(['--debug=0'], { boolean: ['debug'] }).debug, true);
  });

  it('--name=false stays a string for other options', () => {
    assert.strictEqual(parse(['--mode=false']).mode, 'false');
  });

  it('aliases see the same value', () => {
    const argv = parse(['--no-verbose'], { alias: { v: 'verbose' } });
    assert.strictEqual(argv.verbose, false);
    assert.strictEqual(argv.v, false);
  });
});
