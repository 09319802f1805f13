// Viewer and review API: response times over a 10,000-rollout run and a 100-turn trajectory, the
// web app's first render in headless Chromium, and reading a 200,000-rollout run (`show --json`,
// GET /api/runs).
import { benchApiLatency } from '../src/server/api/bench.ts';
import { runWebBench } from '../test/web/bench.ts';
import { benchBigRun } from './support/big-run.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const api = await benchApiLatency();
  const figures: BenchFigure[] = Object.entries(api).map(([name, f]) => ({
    name: `API ${name}`,
    value: Number(f.p50Ms.toFixed(2)),
    unit: 'ms p50',
    note: `p99 ${f.p99Ms.toFixed(2)} ms over ${f.n} requests, ${f.bytes.toLocaleString('en-US')} bytes${'rollouts' in f ? `, ${f.rollouts} rollouts` : ''}${'turns' in f ? `, ${f.turns} turns` : ''}`,
  }));
  return [...figures, ...(await runWebBench()), ...(await benchBigRun())];
}
