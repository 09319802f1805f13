import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldFingerprint } from '../fingerprint.ts';
import { qa } from './index.ts';

// Pinned from the code before the episode-cost work (seeding, statement caching, snapshots). Any
// change to what an agent or verifier can observe of a seeded world changes this hash; if a
// change is meant to alter worlds, say so in its commit and pin the new value.
const PINNED = 'e7cbaf3d112d9e98684b23050bdc13603e2e3c8ff29343911bb2d24bab927bb3';

describe('qa worlds', () => {
  it('stay exactly the same for the same seed: every task × seeds 0, 1, 4242 (state, golden outcomes, verdicts)', async () => {
    assert.equal(await worldFingerprint(qa), PINNED);
  });
});
