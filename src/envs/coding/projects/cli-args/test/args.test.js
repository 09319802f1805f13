import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../src/args.js';

const options = {
  out: { type: 'string', short: 'o' },
  verbose: { type: 'boolean', short: 'v' },
  level: { type: 'string', default: 'info' },
};

test('parses long, short and positional arguments', () => {
  assert.deepEqual(parseArgs(['--out', 'dist', '-v', 'src'], { options }), {
    values: { out: 'dist', verbose: true, level: 'info' },
    positionals: ['src'],
  });
});

test('rejects unknown options', () => {
  assert.throws(() => parseArgs(['--nope'], { options }), /unknown option --nope/);
});

test('needs a value for string options', () => {
  assert.throws(() => parseArgs(['--out'], { options }), /option --out needs a value/);
});
