// Environment step latency per built-in environment: every task's golden tool calls replayed
// directly (no model, no agent loop), timing each call.
import { environmentNames, getEnvironment, instantiate } from '../src/envs/index.ts';
import type { BenchFigure } from './types.ts';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const signal = new AbortController().signal;
  for (const name of environmentNames()) {
    const definition = getEnvironment(name);
    const steps: number[] = [];
    const resets: number[] = [];
    try {
      for (const task of definition.tasks()) {
        const env = instantiate(definition);
        let t = performance.now();
        await env.reset(task, { seed: 1 });
        resets.push(performance.now() - t);
        for (const step of task.golden.steps) {
          t = performance.now();
          await env.call(step.tool, step.arguments, { signal });
          steps.push(performance.now() - t);
        }
        await env.close();
      }
    } catch (error) {
      figures.push({ name: `${name}: step latency`, value: Number.NaN, unit: 'ms', note: `not measured: ${(error as Error).message.split('\n')[0]}` });
      continue;
    }
    steps.sort((a, b) => a - b);
    resets.sort((a, b) => a - b);
    const mean = steps.reduce((s, x) => s + x, 0) / Math.max(1, steps.length);
    figures.push({
      name: `${name}: step latency p50 / p99 (${steps.length} golden steps)`,
      value: Number(percentile(steps, 0.5).toFixed(3)),
      unit: `ms p50, ${percentile(steps, 0.99).toFixed(3)} ms p99, ${mean.toFixed(3)} ms mean`,
      note: `reset p50 ${percentile(resets, 0.5).toFixed(2)} ms`,
    });
  }
  return figures;
}
