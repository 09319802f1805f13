// OpenEnv server: one environment step over the WebSocket protocol against the same step in-process.
import { benchOpenEnvStepLatency } from '../src/server/openenv/bench.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const result = await benchOpenEnvStepLatency({ env: 'mail' });
  const row = (p: 'p50Ms' | 'p99Ms', label: string): BenchFigure => ({
    name: `OpenEnv step latency ${label}, ${result.env} (WebSocket, client and server in one process)`,
    value: Number(result.websocket[p].toFixed(3)),
    unit: 'ms',
    baseline: { name: 'in-process environment.call', value: Number(result.inProcess[p].toFixed(3)), unit: 'ms' },
    ratio: result.websocket[p] / result.inProcess[p],
  });
  return [row('p50Ms', 'p50'), row('p99Ms', 'p99')];
}
