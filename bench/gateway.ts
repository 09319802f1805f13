// The gateway: added latency and throughput against calling the engine directly, in the same run.
import { gatewayBenchFigures } from '../src/training/gateway/index.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  return gatewayBenchFigures();
}
