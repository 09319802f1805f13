// Every perturbation, in the order they compose: the world first, then the tool interface from the
// environment outwards (shape, names, descriptions, extras, order), then what results look like,
// then the prompts, then the scaffold. A suite's perturbations always apply in this order, however
// they were written, so the same set gives the same episode.
import { layout, reseed, size } from './environment.ts';
import { paraphrase, split } from './prompts/instruction.ts';
import { system } from './prompts/system.ts';
import { format } from './responses/format.ts';
import { noise } from './responses/noise.ts';
import { transient } from './responses/transient.ts';
import { truncate } from './responses/truncate.ts';
import { budget, thinking, toolCalling } from './scaffold.ts';
import { describe, reorder } from './tools/describe.ts';
import { distractors } from './tools/distractors.ts';
import { rename } from './tools/rename.ts';
import { schema } from './tools/schema.ts';
import type { Perturbation } from './types.ts';

export const PERTURBATIONS: readonly Perturbation[] = [
  reseed,
  size,
  layout,
  schema,
  rename,
  describe,
  distractors,
  reorder,
  transient,
  noise,
  format,
  truncate,
  system,
  paraphrase,
  split,
  thinking,
  toolCalling,
  budget,
];

const byId = new Map(PERTURBATIONS.map((p, order) => [p.id, { perturbation: p, order }]));

export function perturbationIds(): string[] {
  return PERTURBATIONS.map((p) => p.id);
}

export function findPerturbation(id: string): { perturbation: Perturbation; order: number } | undefined {
  return byId.get(id);
}
