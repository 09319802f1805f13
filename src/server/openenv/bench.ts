// Step latency over the OpenEnv WebSocket against calling the environment in-process: the same
// golden tool calls (every task's, cycled), timed one by one. Client and server share this process.
import { getEnvironment, instantiate } from '../../envs/index.ts';
import type { Task, ToolInvocation } from '../../core/index.ts';
import { startOpenEnvServer } from './server.ts';

export interface StepLatencyBenchOptions {
  /** Default `mail`. */
  env?: string;
  /** Timed steps per path (default 2000), after `warmup` untimed ones (default 200). */
  steps?: number;
  warmup?: number;
}

export interface LatencyFigures {
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface StepLatencyBench {
  env: string;
  websocket: LatencyFigures;
  inProcess: LatencyFigures;
}

function figures(samples: number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), meanMs: sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length) };
}

/** Golden calls per task, minus those that end the episode (verification is not a step's cost). */
function workload(env: string): { taskId: string; steps: ToolInvocation[] }[] {
  const definition = getEnvironment(env);
  const plan = definition.tasks().map((task) => ({ taskId: task.id, steps: task.golden.steps.filter((s) => !definition.tools[s.tool]?.endsEpisode) }));
  const usable = plan.filter((p) => p.steps.length > 0);
  if (usable.length === 0) throw new Error(`bench: environment ${env} has no golden tool calls to replay`);
  return usable;
}

async function timeInProcess(env: string, total: number): Promise<number[]> {
  const definition = getEnvironment(env);
  const tasks = new Map<string, Task>(definition.tasks().map((t) => [t.id, t]));
  const signal = new AbortController().signal;
  const samples: number[] = [];
  while (samples.length < total) {
    for (const { taskId, steps } of workload(env)) {
      const environment = instantiate(definition);
      await environment.reset(tasks.get(taskId)!, { seed: 0 });
      for (const step of steps) {
        const started = performance.now();
        await environment.call(step.tool, step.arguments, { signal });
        samples.push(performance.now() - started);
      }
      await environment.close();
      if (samples.length >= total) break;
    }
  }
  return samples.slice(0, total);
}

async function connect(url: string): Promise<{ request: (message: unknown) => Promise<unknown>; close: () => void }> {
  const { WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const waiting: ((reply: unknown) => void)[] = [];
    socket.on('message', (raw) => waiting.shift()?.(JSON.parse(String(raw))));
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        request: (message) =>
          new Promise((done) => {
            waiting.push(done);
            socket.send(JSON.stringify(message));
          }),
        close: () => socket.close(),
      }),
    );
  });
}

async function timeWebSocket(env: string, total: number): Promise<number[]> {
  const server = await startOpenEnvServer({ env, port: 0, maxSessions: 4 });
  const client = await connect(`${server.url.replace(/^http/, 'ws')}/ws`);
  const samples: number[] = [];
  try {
    while (samples.length < total) {
      for (const { taskId, steps } of workload(env)) {
        const reset = (await client.request({ type: 'reset', data: { task_id: taskId, seed: 0 } })) as { type: string };
        if (reset.type !== 'observation') throw new Error(`bench: reset of ${taskId} failed: ${JSON.stringify(reset)}`);
        for (const step of steps) {
          const started = performance.now();
          const reply = (await client.request({ type: 'step', data: { type: 'call_tool', tool_name: step.tool, arguments: step.arguments } })) as { type: string };
          samples.push(performance.now() - started);
          if (reply.type !== 'observation') throw new Error(`bench: step ${step.tool} of ${taskId} failed: ${JSON.stringify(reply)}`);
        }
        if (samples.length >= total) break;
      }
    }
  } finally {
    client.close();
    await server.close();
  }
  return samples.slice(0, total);
}

/** Measures both paths with the same calls; no assertion on the figures, they are for reports. */
export async function benchOpenEnvStepLatency(options: StepLatencyBenchOptions = {}): Promise<StepLatencyBench> {
  const env = options.env ?? 'mail';
  const steps = options.steps ?? 2000;
  const warmup = options.warmup ?? 200;
  await timeInProcess(env, warmup);
  await timeWebSocket(env, warmup);
  const inProcess = figures(await timeInProcess(env, steps));
  const websocket = figures(await timeWebSocket(env, steps));
  return { env, websocket, inProcess };
}
