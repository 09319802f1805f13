// Perturbations: applying a full suite (every perturbation alone, and all compatible ones together)
// to 1,000 tasks, against loading those tasks.
import { benchPerturbations } from '../src/perturb/index.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const b = benchPerturbations({ tasks: 1000 });
  return [
    {
      name: `apply a ${b.arms}-arm suite to ${b.tasks} tasks`,
      value: Math.round(b.applyMs),
      unit: 'ms',
      baseline: { name: 'loading the tasks', value: Math.round(b.loadMs), unit: 'ms' },
      ratio: b.ratio,
      note: `${Math.round(b.episodesPerSecond).toLocaleString('en-US')} perturbed episodes/s`,
    },
  ];
}
