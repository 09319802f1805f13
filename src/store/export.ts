import type { Store } from '../core/index.ts';
import { findNonFinite, hasNonFinite, NON_FINITE_KEY } from './non-finite.ts';

/**
 * JSONL export: one line per rollout holding the rollout record and its model calls (each with
 * the exact request and response), in task/epoch order. Lines are yielded so large runs stream.
 * Numbers JSON has no word for (a -∞ logprob) are null in the line and listed, with their paths,
 * under its `$nonFinite` key, as the store keeps them.
 */
export function* exportRunJsonl(store: Store, runId: string, options: { events?: boolean } = {}): Generator<string> {
  const run = store.getRun(runId);
  if (!run) return;
  for (const rollout of store.rollouts(runId)) {
    const record = {
      schemaVersion: rollout.schemaVersion,
      run: { id: run.id, model: run.config.model, scaffold: run.config.scaffold, seed: run.config.seed },
      rollout,
      modelCalls: store.modelCalls(rollout.id).filter((c) => c.attempt === rollout.attempt),
      ...(options.events ? { events: store.events(rollout.id).filter((e) => e.attempt === rollout.attempt) } : {}),
    };
    // What the detectors found in this attempt, when they have looked (`gauntlet detect`).
    const detections = store.detections(rollout.id).find((d) => d.attempt === rollout.attempt);
    if (detections) Object.assign(record, { detections });
    if (hasNonFinite(record)) Object.assign(record, { [NON_FINITE_KEY]: findNonFinite(record) });
    yield JSON.stringify(record);
  }
}
