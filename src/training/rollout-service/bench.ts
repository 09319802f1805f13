// The window benchmark: what oversubscription buys (batch time with a slow task in the mix) and
// what it costs (the bias of served groups towards fast tasks), for several windows, against the
// fake engine. Slow-task requests are delayed on their way to the engine; timings are wall clock.
import { openStore } from '../../store/index.ts';
import { startFakeEngine } from '../fake-engine/index.ts';
import { RolloutServiceClient } from './client.ts';
import { startRolloutService } from './service.ts';
import { buttonsCatalog, buttonTask, isSlow, sampledToolWalk } from './test-support.ts';

export interface WindowBenchOptions {
  windows?: readonly number[];
  /** B, per batch. */
  groups?: number;
  groupSize?: number;
  batches?: number;
  /** Extra latency of every model request of the slow task. */
  slowDelayMs?: number;
}

export interface WindowBenchCase {
  window: number;
  meanBatchMs: number;
  totalVariation: number;
  bound: number;
  slowShareStarted: number;
  slowShareServed: number;
  servedMeanTurns: number;
  settledMeanTurns: number;
}

/** Three fast tasks and one slow one; `batches` batches of `groups` groups per window setting. */
export async function windowBench(options: WindowBenchOptions = {}): Promise<WindowBenchCase[]> {
  const groups = options.groups ?? 4;
  const delay = options.slowDelayMs ?? 100;
  const tasks = [buttonTask('fast-a'), buttonTask('fast-b'), buttonTask('fast-c'), buttonTask('slow-a', { slow: true })];
  const engine = await startFakeEngine({ policy: sampledToolWalk() });
  const slowFetch: typeof fetch = async (input, init) => {
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { messages: { role: string; content?: unknown }[] }) : null;
    if (body && isSlow(body)) await new Promise((resolve) => setTimeout(resolve, delay));
    return fetch(input, init);
  };
  const cases: WindowBenchCase[] = [];
  try {
    for (const window of options.windows ?? [0, 2, 4, 8]) {
      const store = openStore(':memory:');
      const service = await startRolloutService({
        store,
        run: { envs: ['buttons'], model: `openai:${engine.url}#${engine.model}`, groupSize: options.groupSize ?? 4, concurrency: 256, seed: 3 },
        catalog: buttonsCatalog(tasks),
        port: 0,
        window,
        modelEnvironment: { env: {}, fetch: slowFetch },
      });
      try {
        const client = new RolloutServiceClient(service.url);
        const times: number[] = [];
        for (let b = 0; b < (options.batches ?? 3); b++) {
          const started = performance.now();
          const batch = await client.requestBatch({ groups, policyVersion: 0 });
          for await (const line of client.stream(batch.id)) if (line.type === 'error') throw new Error(`bench batch failed: ${line.message}`);
          times.push(performance.now() - started);
        }
        const { bias } = service.core.stats();
        const slow = bias.tasks.rows.find((r) => r.key === 'buttons/slow-a');
        cases.push({
          window,
          meanBatchMs: times.reduce((a, t) => a + t, 0) / times.length,
          totalVariation: bias.tasks.totalVariation ?? 0,
          bound: bias.tasks.bound ?? 0,
          slowShareStarted: slow?.startedShare ?? 0,
          slowShareServed: slow?.servedShare ?? 0,
          servedMeanTurns: bias.length.served.meanTurns ?? 0,
          settledMeanTurns: bias.length.settled.meanTurns ?? 0,
        });
      } finally {
        await service.close();
        store.close();
      }
    }
  } finally {
    await engine.close();
  }
  return cases;
}

/** The same figures in the shape `npm run bench` prints (bench/types.ts BenchFigure). */
export async function windowBenchFigures(options: WindowBenchOptions = {}): Promise<{ name: string; value: number; unit: string; baseline?: { name: string; value: number; unit: string }; ratio?: number; note?: string }[]> {
  const cases = await windowBench(options);
  const base = cases.find((c) => c.window === 0);
  return cases.map((c) => ({
    name: `rollout service, window ${c.window}: mean time to a full batch (1 task in 4 slow)`,
    value: Math.round(c.meanBatchMs),
    unit: 'ms',
    ...(base && c !== base ? { baseline: { name: 'window 0', value: Math.round(base.meanBatchMs), unit: 'ms' }, ratio: c.meanBatchMs / base.meanBatchMs } : {}),
    note: `bias: task TV ${c.totalVariation.toFixed(3)} (bound ${c.bound.toFixed(3)}); slow task ${(100 * c.slowShareServed).toFixed(0)}% of served vs ${(100 * c.slowShareStarted).toFixed(0)}% of started; mean turns served ${c.servedMeanTurns.toFixed(2)} vs settled ${c.settledMeanTurns.toFixed(2)}`,
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const figure of await windowBenchFigures()) console.log(`${figure.name}: ${figure.value} ${figure.unit}${figure.ratio ? ` (${figure.ratio.toFixed(2)}× window 0)` : ''}\n  ${figure.note}`);
}
