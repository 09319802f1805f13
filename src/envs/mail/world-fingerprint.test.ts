import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldFingerprint } from '../fingerprint.ts';
import { mail } from './index.ts';

// Pinned from the code before the episode-cost work (seeding, statement caching, snapshots). Any
// change to what an agent or verifier can observe of a seeded world changes this hash; if a
// change is meant to alter worlds, say so in its commit and pin the new value.
const PINNED = 'c43a79a03231f3e3ed6df74b58ef20ab4f971c8991f246a99fb0fd2d26fbf8b2';

describe('mail worlds', () => {
  it('stay exactly the same for the same seed: every task × seeds 0, 1, 4242 (state, golden outcomes, verdicts)', async () => {
    assert.equal(await worldFingerprint(mail), PINNED);
  });
});
