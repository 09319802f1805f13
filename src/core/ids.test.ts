import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelCallIdFor, rolloutIdFor, type RolloutId, type RunId } from './ids.ts';

// Stored runs, resumed runs and queue workers of other versions all find rollouts and calls by
// these ids: the values may never change, however they are computed.
describe('deterministic ids', () => {
  it('gives the same rollout and model-call ids as every earlier version', () => {
    assert.equal(rolloutIdFor('run_20261205_abc' as RunId, 'mail/triage-1', 3), 'ro_eac9b3147f195c73');
    assert.equal(rolloutIdFor('run_x' as RunId, 'tâche-ü', 0), 'ro_7066627b8751e23e');
    assert.equal(modelCallIdFor('ro_0123456789abcdef' as RolloutId, 2, 7), 'mc_58cb38dea7ee5d8d');
  });
});
