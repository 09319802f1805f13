import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../src/args.js';

const options = {
  out: { type: 'string', short: 'o' },
  verbose: { type: 'boolean', short: 'v' },
  all: { type: 'boolean', short: 'a' },
  force: { type: 'boolean', short: 'f', default: true },
  level: { type: 'string', default: 'info' },
};

describe('new argument forms', () => {
  it('accepts --name=value', () => {
    assert.deepEqual(parseArgs(['--out=dist', '--level=a=b'], { options }).values, { out: 'dist', level: 'a=b', force: true });
  });

  it('accepts an empty value after =', () => {
    assert.equal(parseArgs(['--out='], { options }).values.out, '');
  });

  it('rejects a value for a boolean given with =', () => {
    assert.throws(() => parseArgs(['--verbose=yes'], { options }), /option --verbose does not take a value/);
  });

  it('groups short booleans', () => {
    const { values } = parseArgs(['-va'], { options });
    assert.equal(values.verbose, true);
    assert.equal(values.all, true);
  });

  it('lets the last short option in a group take the next value', () => {
    assert.deepEqual(parseArgs(['-vo', 'build', 'x'], { options }), { values: { verbose: true, out: 'build', force: true, level: 'info' }, positionals: ['x'] });
  });

  it('rejects a string option in the middle of a group', () => {
    assert.throws(() => parseArgs(['-ov'], { options }), /option -o needs a value/);
  });

  it('rejects unknown letters in a group', () => {
    assert.throws(() => parseArgs(['-vz'], { options }), /unknown option -z/);
  });

  it('treats everything after -- as positional', () => {
    assert.deepEqual(parseArgs(['-v', '--', '--out', '-a', 'file'], { options }).positionals, ['--out', '-a', 'file']);
  });

  it('sets --no-<flag> to false', () => {
    const { values } = parseArgs(['--no-force', '--no-verbose'], { options });
    assert.equal(values.force, false);
    assert.equal(values.verbose, false);
  });

  it('does not accept --no- for string options', () => {
    assert.throws(() => parseArgs(['--no-out'], { options }), /unknown option --no-out/);
  });

  it('keeps a lone dash as a positional', () => {
    assert.deepEqual(parseArgs(['-'], { options }).positionals, ['-']);
  });
});
