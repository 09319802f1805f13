import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createRng, rngPosition } from './random.ts';

it('a stream made at the position of another goes on exactly as that one, forks included', () => {
  const rng = createRng('7:mail/some-task');
  for (let i = 0; i < 17; i++) rng.next();
  const copy = createRng(rngPosition(rng));
  assert.equal(copy.fork('background').next(), rng.fork('background').next());
  assert.deepEqual(
    Array.from({ length: 5 }, () => copy.int(0, 1000)),
    Array.from({ length: 5 }, () => rng.int(0, 1000)),
  );
  assert.throws(() => rngPosition({ ...rng }), /not a stream made by createRng/);
});
