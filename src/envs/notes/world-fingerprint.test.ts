import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldFingerprint } from '../fingerprint.ts';
import { notes } from './index.ts';

// Pinned from the code before the episode-cost work (seeding, statement caching, snapshots). Any
// change to what an agent or verifier can observe of a seeded world changes this hash; if a
// change is meant to alter worlds, say so in its commit and pin the new value.
const PINNED = 'f5ce8b868cf4578efdef14eebbad17d05ec9cc8ddb28d5c669beeb4be8b87e7b';

describe('notes worlds', () => {
  it('stay exactly the same for the same seed: every task × seeds 0, 1, 4242 (state, golden outcomes, verdicts)', async () => {
    assert.equal(await worldFingerprint(notes), PINNED);
  });
});
