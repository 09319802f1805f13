// API latency over loopback HTTP: a 100-turn trajectory, and pages of a 10,000-rollout run (first,
// middle through a cursor, and a filtered one), plus the run's summary. Fixtures are written
// straight through the store, so the bench measures serving, not running.
import { openStore } from '../../store/index.ts';
import { writeLargeRun, writeLongTrajectory } from '../../review/fixtures.ts';
import { startApiServer } from './server.ts';

export interface LatencyFigures {
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Response size of the last request. */
  bytes: number;
}

export interface ApiLatencyBench {
  trajectory: LatencyFigures & { turns: number };
  runPageFirst: LatencyFigures & { rollouts: number };
  runPageMiddle: LatencyFigures & { rollouts: number };
  runPageFiltered: LatencyFigures & { rollouts: number };
  runSummary: LatencyFigures & { rollouts: number };
}

export interface ApiLatencyOptions {
  /** Default 100. */
  turns?: number;
  /** Default 100 tasks × 100 epochs = 10,000. */
  tasks?: number;
  epochs?: number;
  /** Timed requests per endpoint after `warmup` untimed ones (default 30 and 3). */
  requests?: number;
  warmup?: number;
}

function figures(samples: number[], bytes: number): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), meanMs: sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length), bytes };
}

async function time(url: string, options: { requests: number; warmup: number }): Promise<LatencyFigures> {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < options.warmup + options.requests; i++) {
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (!response.ok) throw new Error(`bench: GET ${url} answered ${response.status}: ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
    bytes = body.byteLength;
    if (i >= options.warmup) samples.push(elapsed);
  }
  return figures(samples, bytes);
}

export async function benchApiLatency(options: ApiLatencyOptions = {}): Promise<ApiLatencyBench> {
  const turns = options.turns ?? 100;
  const tasks = options.tasks ?? 100;
  const epochs = options.epochs ?? 100;
  const timing = { requests: options.requests ?? 30, warmup: options.warmup ?? 3 };
  const store = openStore(':memory:');
  const rolloutId = writeLongTrajectory(store, { runId: 'run_bench_trajectory', turns });
  const runId = writeLargeRun(store, { runId: 'run_bench_large', tasks, epochs });
  const server = await startApiServer({ store, port: 0 });
  try {
    const api = `${server.url}/api`;
    const rollouts = tasks * epochs;
    const first = (await (await fetch(`${api}/runs/${runId}/rollouts?limit=100`)).json()) as { nextCursor: string | null };
    // A cursor from the middle of the run: page 50 of 100.
    let cursor = first.nextCursor;
    for (let page = 1; page < Math.floor(rollouts / 200) && cursor; page++) {
      cursor = ((await (await fetch(`${api}/runs/${runId}/rollouts?limit=100&cursor=${cursor}`)).json()) as { nextCursor: string | null }).nextCursor;
    }
    return {
      trajectory: { ...(await time(`${api}/rollouts/${rolloutId}`, timing)), turns },
      runPageFirst: { ...(await time(`${api}/runs/${runId}/rollouts?limit=100`, timing)), rollouts },
      runPageMiddle: { ...(await time(`${api}/runs/${runId}/rollouts?limit=100${cursor ? `&cursor=${cursor}` : ''}`, timing)), rollouts },
      runPageFiltered: { ...(await time(`${api}/runs/${runId}/rollouts?limit=100&passed=false`, timing)), rollouts },
      runSummary: { ...(await time(`${api}/runs/${runId}`, timing)), rollouts },
    };
  } finally {
    await server.close();
    store.close();
  }
}
