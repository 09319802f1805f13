// Many agents at once: 200 agents fanned out against the loopback mock model (50 ms latency), wall
// time against the ideal and against the same calls made straight through the client.
import { benchFanout } from '../src/agent/fanout/index.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const b = await benchFanout({ agents: 200, latencyMs: 50 });
  return [
    {
      name: `fan-out of ${b.agents} agents (concurrency ${b.concurrency}, ${b.latencyMs} ms model latency)`,
      value: Math.round(b.wallMs),
      unit: 'ms',
      baseline: { name: 'the same calls straight through the client', value: Math.round(b.directMs), unit: 'ms' },
      ratio: b.wallMs / b.directMs,
      note: `${b.wallVsIdeal.toFixed(1)}× the ideal ${Math.round(b.idealMs)} ms; ${Math.round(b.heapPerAgentBytes / 1024)} KiB heap per agent; ${b.ok}/${b.agents} ok`,
    },
  ];
}
