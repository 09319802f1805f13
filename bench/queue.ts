// Scale-out: rollouts per second with two worker processes against one (target ≥ 1.7× on 2 cores).
import { availableParallelism } from 'node:os';
import { benchWorkerScaling } from '../src/runner/queue/bench.ts';
import { atLeast } from './targets.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const r = await benchWorkerScaling();
  return [
    {
      name: 'rollouts/s with 2 worker processes',
      value: Number(r.two.rolloutsPerSecond.toFixed(2)),
      unit: 'rollouts/s',
      baseline: { name: '1 worker process', value: Number(r.one.rolloutsPerSecond.toFixed(2)), unit: 'rollouts/s' },
      ratio: r.ratio,
      targets: [atLeast(1.7, 'ratio')],
      note: `median-run ratio ${r.medianRatio.toFixed(2)}×; ${r.cpus} CPUs (${availableParallelism()} available)`,
    },
  ];
}
