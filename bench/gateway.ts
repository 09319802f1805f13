// The gateway: added latency and throughput against calling the engine directly, in the same run.
import { gatewayBenchFigures } from '../src/training/gateway/index.ts';
import { atLeast, atMost } from './targets.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  return (await gatewayBenchFigures()).map((figure) => {
    if (figure.name.startsWith('gateway added latency p50')) return { ...figure, targets: [atMost(1)] };
    if (figure.name.startsWith('gateway throughput')) return { ...figure, targets: [atLeast(0.9, 'ratio')] };
    return figure;
  });
}
