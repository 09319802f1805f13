import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldFingerprint } from '../fingerprint.ts';
import { workplace } from './index.ts';

// Pinned from the code before the episode-cost work (seeding, statement caching, snapshots). Any
// change to what an agent or verifier can observe of a seeded world changes this hash; if a
// change is meant to alter worlds, say so in its commit and pin the new value.
const PINNED = 'd32dc1aff220bad582fc292f4c753e753c667d04769449042d0875bb32ed1847';

describe('workplace worlds', () => {
  it('stay exactly the same for the same seed: every task × seeds 0, 1 (state, golden outcomes, verdicts)', async () => {
    assert.equal(await worldFingerprint(workplace, [0, 1]), PINNED);
  });
});
