import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldFingerprint } from '../fingerprint.ts';
import { calendar } from './index.ts';

// Pinned from the code before the episode-cost work (seeding, statement caching, snapshots). Any
// change to what an agent or verifier can observe of a seeded world changes this hash; if a
// change is meant to alter worlds, say so in its commit and pin the new value.
const PINNED = '86e371a8eea0761d723af7b65bcb297d58bf21eb54ca7992d4d09197583f11ce';

describe('calendar worlds', () => {
  it('stay exactly the same for the same seed: every task × seeds 0, 1 (state, golden outcomes, verdicts)', async () => {
    assert.equal(await worldFingerprint(calendar, [0, 1]), PINNED);
  });
});
