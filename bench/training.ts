// Training data: tokens a trainer processes after prefix merging, against the unique tokens of the
// trajectories and against one sample per model call.
import { prefixMergingFigures } from '../src/training/trajectory/index.ts';
import { atMost } from './targets.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  return prefixMergingFigures().map((figure) => (figure.name.endsWith('training tokens after prefix merging') ? { ...figure, targets: [atMost(1.05, 'ratio')] } : figure));
}
