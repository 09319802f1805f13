// World fingerprints for the determinism tests: everything an agent or a verifier could observe of
// an episode (the seeded state, every golden tool outcome, the state after them, the verdict and
// the destructive actions), hashed per environment over all its tasks and several seeds. Tests pin
// the hashes, so an optimisation of seeding or snapshots that changes any world fails loudly.
import { createHash, type Hash } from 'node:crypto';
import { errorMessage } from '../core/index.ts';
import type { EnvironmentDefinition } from './define.ts';
import { instantiate } from './instance.ts';

/** Seeds every fingerprint covers: different background worlds, and the default seed of the tests. */
export const FINGERPRINT_SEEDS = [0, 1, 4242] as const;

function feed(hash: Hash, label: string, value: unknown): void {
  hash.update(label);
  hash.update('\0');
  hash.update(JSON.stringify(value) ?? 'undefined');
  hash.update('\n');
}

/** The fingerprint of one episode: reset with `seed`, the golden steps, verify, destructive actions. */
async function episodeInto(hash: Hash, options: { definition: EnvironmentDefinition; taskIndex: number; seed: number }): Promise<void> {
  const { definition, taskIndex, seed } = options;
  const task = definition.tasks()[taskIndex]!;
  const env = instantiate(definition);
  const signal = new AbortController().signal;
  feed(hash, 'episode', `${task.id}@${seed}`);
  try {
    await env.reset(task, { seed });
    feed(hash, 'initial', await env.snapshot());
    for (const step of task.golden.steps) feed(hash, `call ${step.tool}`, await env.call(step.tool, step.arguments, { signal }));
    feed(hash, 'final', await env.snapshot());
    feed(hash, 'destructive', await env.destructiveActions());
    try {
      feed(hash, 'verdict', await env.verify({ answer: task.golden.answer ?? null }));
    } catch (error) {
      // Checks that need a judge model fail without one, the same way on every run.
      feed(hash, 'verify error', errorMessage(error));
    }
  } finally {
    await env.close();
  }
}

/** sha256 (hex) over every task of `definition` × `seeds` (default FINGERPRINT_SEEDS), in task order. */
export async function worldFingerprint(definition: EnvironmentDefinition, seeds: readonly number[] = FINGERPRINT_SEEDS): Promise<string> {
  const hash = createHash('sha256');
  const count = definition.tasks().length;
  for (let taskIndex = 0; taskIndex < count; taskIndex++) {
    for (const seed of seeds) await episodeInto(hash, { definition, taskIndex, seed });
  }
  return hash.digest('hex');
}
