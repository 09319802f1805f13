// Training data: tokens a trainer processes after prefix merging, against the unique tokens of the
// trajectories and against one sample per model call.
import { prefixMergingFigures } from '../src/training/trajectory/index.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  return prefixMergingFigures();
}
