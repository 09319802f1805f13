// Throughput at high concurrency: Gauntlet running N rollouts × 10 turns against a loopback
// OpenAI-style server (its own process, fixed latency), beside a bare Node HTTP client making the
// same calls in the same run (in a process of its own). Also: main-thread CPU per model call
// beyond the environment's own cost, the longest event-loop stall, and peak RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InputError, RunConfig } from '../src/core/index.ts';
import { getEnvironment, instantiate } from '../src/envs/index.ts';
import { executeRun } from '../src/runner/index.ts';
import { threadCount } from '../src/runner/threads/threads.ts';
import { openStore } from '../src/store/index.ts';
import { measured, type Measure } from './support/measure.ts';
import { atLeast, atMost, below } from './targets.ts';
import type { BenchFigure } from './types.ts';

const TURNS = 10;
const ENV = 'mail';

async function startServer(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [new URL('./support/turn-server.mjs', import.meta.url).pathname, String(latencyMs), String(TURNS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  return { url: `http://127.0.0.1:${line.trim()}/v1`, child };
}

/** Warm-ups run at another seed: their worlds are then never the measured run's (an episode's second sight of a world keeps it). */
const WARM_UP_SEED = 2;

async function gauntlet(url: string, rollouts: number, threads: number | 'auto', concurrency = rollouts, seed = 1): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-throughput-'));
  const store = openStore(join(dir, 'g.db'));
  const task = getEnvironment(ENV).tasks()[0]!;
  const config = RunConfig.parse({ envs: [ENV], model: `openai:${url}#bench`, epochs: rollouts, concurrency, seed, maxTurns: TURNS + 1, deadlineMs: 600_000, maxAttempts: 1 });
  try {
    let calls = 0;
    const result = await measured(rollouts * (TURNS + 1), async () => {
      const summary = await executeRun({ store, run: { resolved: { config, tasks: [task] } }, modelEnvironment: { env: {} }, threads });
      if (summary.infraErrors > 0 || summary.errors > 0 || summary.scored !== rollouts) throw new Error(`throughput run: ${summary.scored} scored, ${summary.infraErrors} infra errors, ${summary.errors} errors`);
      calls = rollouts * (TURNS + 1);
    });
    return { ...result, calls };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same calls, with the same request bodies, made by a bare loop per rollout, in a process of
 * its own (bench/support/bare-client.ts): peak RSS and CPU then belong to one side only. The
 * targets' baseline sends through undici, as Gauntlet does (a faster client for Gauntlet alone
 * would flatter its ratio); node:http and fetch loops are measured beside it.
 */
async function bare(url: string, rollouts: number, transport: 'undici' | 'node-http' | 'fetch'): Promise<Measure> {
  return jsonFromScript<Measure>(`bare ${transport} client`, new URL('./support/bare-client.ts', import.meta.url), [url, String(rollouts), String(TURNS), ENV, transport]);
}

/** Runs a TypeScript script in a process of its own and parses the one JSON document it prints. */
async function jsonFromScript<T>(what: string, script: URL, args: string[]): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script.pathname, ...args], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`${what}: exited with ${code}`);
  return JSON.parse(out) as T;
}

/**
 * CPU the environment itself spends per call (reset, tool calls, verify), to separate it from the
 * harness's. Measured warm, as the rollouts run: cold, the same work read ~1.5× higher, and
 * subtracting that would have credited the harness with part of its own cost.
 */
async function environmentCpuPerCall(rollouts: number): Promise<number> {
  const definition = getEnvironment(ENV);
  const task = definition.tasks()[0]!;
  const signal = new AbortController().signal;
  const episodes = async (from: number) => {
    for (let r = from; r < from + rollouts; r++) {
      const env = instantiate(definition);
      await env.reset(task, { seed: r });
      for (let i = 0; i < TURNS; i++) await env.call('list_folders', {}, { signal });
      await env.verify({ answer: 'Done.' });
      await env.close();
    }
  };
  await episodes(rollouts);
  const cpu = process.cpuUsage();
  await episodes(0);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / (rollouts * (TURNS + 1));
}

/**
 * The 1,000 × 50 ms cases are CPU-bound on a small machine, so the load others put on it moves
 * one measurement of them by ±10%: each runs three times (a process each), and the figures of the
 * run with the median ratio stand, with every run's ratio beside them.
 */
const CPU_BOUND_RUNS = 3;

const DEFAULT_CASES: readonly Case[] = [
  { rollouts: 100, latencyMs: 50, threads: 0 },
  { rollouts: 1000, latencyMs: 50, threads: 0, runs: CPU_BOUND_RUNS },
  { rollouts: 1000, latencyMs: 50, threads: 1, runs: CPU_BOUND_RUNS },
  { rollouts: 1000, latencyMs: 50, threads: 2, runs: CPU_BOUND_RUNS },
  { rollouts: 1000, latencyMs: 1000, threads: 0 },
  { rollouts: 1000, latencyMs: 1000, threads: 1 },
  { rollouts: 1000, latencyMs: 1000, threads: 2 },
];

interface Case {
  rollouts: number;
  latencyMs: number;
  /** Skip the bare client (for a profile of Gauntlet's own work); the figures then carry no baseline. */
  gauntletOnly?: boolean;
  /** Gauntlet's rollout threads (executeRun's `threads`); 'auto' by default, as `gauntlet run`. */
  threads?: number | 'auto';
  /** Independent runs of the case (a process each), reported by the one with the median ratio; 1 by default. */
  runs?: number;
}

/** One case: the bare client (its own process), then Gauntlet after a warm-up, against one fresh server. */
async function measureCase({ rollouts, latencyMs, gauntletOnly, threads = 'auto' }: Case, envCpu: number): Promise<BenchFigure[]> {
  const server = await startServer(latencyMs);
  try {
    const base = gauntletOnly ? null : await bare(server.url, rollouts, 'undici');
    const nodeBase = gauntletOnly ? null : await bare(server.url, rollouts, 'node-http');
    const fetchBase = gauntletOnly ? null : await bare(server.url, rollouts, 'fetch');
    await gauntlet(server.url, 200, threads, 200, WARM_UP_SEED); // warm-up, the same size as the bare client's
    const ours = await gauntlet(server.url, rollouts, threads);
    const envShare = threadCount(threads, rollouts) === 0 ? envCpu : 0;
    const beyond = `beyond the environment's own cost (${envCpu.toFixed(3)} ms per call, subtracted when rollouts run on the main thread)`;
    const label = `${rollouts} concurrent rollouts × ${TURNS + 1} calls @ ${latencyMs} ms${threads === 'auto' ? '' : `, ${threads} rollout threads`}`;
    return [
      {
        name: `throughput, ${label}`,
        value: Math.round(ours.calls / ours.seconds),
        unit: 'calls/s',
        ...(base ? { baseline: { name: 'bare undici client, same calls', value: Math.round(base.calls / base.seconds), unit: 'calls/s' }, ratio: ours.calls / ours.seconds / (base.calls / base.seconds) } : {}),
        ...(latencyMs >= 1000 ? { targets: [atLeast(0.8, 'ratio')] } : rollouts >= 1000 ? { targets: [atLeast(0.5, 'ratio')] } : {}),
      },
      ...(nodeBase
        ? [
            {
              name: `bare node:http client (for comparison), ${label}`,
              value: Math.round(nodeBase.calls / nodeBase.seconds),
              unit: 'calls/s',
              note: `CPU per call ${(nodeBase.cpuMs / nodeBase.calls).toFixed(3)} ms; Gauntlet is ${(ours.calls / ours.seconds / (nodeBase.calls / nodeBase.seconds)).toFixed(2)}× this loop`,
            },
          ]
        : []),
      ...(fetchBase
        ? [
            {
              name: `bare fetch client (for comparison), ${label}`,
              value: Math.round(fetchBase.calls / fetchBase.seconds),
              unit: 'calls/s',
              note: `CPU per call ${(fetchBase.cpuMs / fetchBase.calls).toFixed(3)} ms; Gauntlet is ${(ours.calls / ours.seconds / (fetchBase.calls / fetchBase.seconds)).toFixed(2)}× this loop`,
            },
          ]
        : []),
      ...(ours.mainCpuMs !== null
        ? [
            {
              name: `main-thread CPU per model call, ${label}`,
              value: Number((ours.mainCpuMs / ours.calls - envShare).toFixed(3)),
              unit: 'ms',
              ...(base ? { baseline: { name: 'bare client CPU per call', value: Number((base.cpuMs / base.calls).toFixed(3)), unit: 'ms' } } : {}),
              note: beyond,
              targets: [atMost(0.5)],
            },
          ]
        : []),
      {
        name: `main-thread time per model call, ${label}`,
        value: Number((ours.mainBusyMs / ours.calls - envShare).toFixed(3)),
        unit: 'ms',
        note: `event-loop busy time, wall clock: also counts time the thread waited for a core${ours.mainCpuMs === null ? ' (no per-thread CPU on this system)' : ''}; ${beyond}`,
        ...(ours.mainCpuMs === null ? { targets: [atMost(0.5)] } : {}),
      },
      {
        name: `process CPU per model call, all threads, ${label}`,
        value: Number((ours.cpuMs / ours.calls).toFixed(3)),
        unit: 'ms',
        ...(base ? { baseline: { name: 'bare client CPU per call', value: Number((base.cpuMs / base.calls).toFixed(3)), unit: 'ms' } } : {}),
        note: `the environment's own share is ${envCpu.toFixed(3)} ms`,
      },
      { name: `longest event-loop stall, ${label}`, value: Math.round(ours.maxStallMs), unit: 'ms', targets: [atMost(100)] },
      { name: `peak RSS, ${label}`, value: Math.round(ours.peakRssMb), unit: 'MiB', ...(rollouts >= 1000 ? { targets: [below(1024)] } : {}) },
    ];
  } finally {
    server.child.kill();
  }
}

const RETAINED_ROLLOUTS = 2000;

/**
 * Heap a finished rollout leaves behind, after full collections: flat unless something keeps every
 * rollout's objects alive. A week-long run of hundreds of thousands of rollouts turns even a few
 * KB each into gigabytes (a leaked abort listener kept ~2.3 KB a rollout, 21 MB over 9,000).
 */
async function retainedPerRollout(): Promise<BenchFigure> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const settled = (): number => {
    for (let i = 0; i < 3; i++) gc();
    return process.memoryUsage().heapUsed;
  };
  const server = await startServer(5);
  try {
    await gauntlet(server.url, 2000, 0, 200, WARM_UP_SEED); // warm-up: code, and caches that fill up to their bounds (ISO times, images, worlds seen)
    const before = settled();
    await gauntlet(server.url, RETAINED_ROLLOUTS, 0, 200);
    const bytes = (settled() - before) / RETAINED_ROLLOUTS;
    return { name: `heap kept per finished rollout, ${RETAINED_ROLLOUTS} rollouts 200 at a time`, value: Math.round(bytes), unit: 'bytes', note: 'heap after full collections, after the run against before it', targets: [atMost(256)] };
  } finally {
    server.child.kill();
  }
}

/**
 * Several cases run one process each: a case's peak RSS would otherwise carry whatever the cases
 * before it left on the heap (and its collections their garbage).
 */
export async function run(cases: readonly Case[] = DEFAULT_CASES): Promise<BenchFigure[]> {
  if (cases.length === 1 && (cases[0]!.runs ?? 1) === 1) return measureCase(cases[0]!, await environmentCpuPerCall(500));
  const figures: BenchFigure[] = [];
  for (const c of cases) {
    const runs: BenchFigure[][] = [];
    for (let i = 0; i < (c.runs ?? 1); i++) runs.push(await caseInOwnProcess(c));
    figures.push(...medianRun(runs));
  }
  if (cases === DEFAULT_CASES) figures.push(...(await jsonFromScript<BenchFigure[]>('retained heap', new URL(import.meta.url), ['--json', '--retained'])));
  return figures;
}

/**
 * The figures of the run whose throughput ratio is the median, with every run's ratio noted; the
 * longest stall and the peak RSS are the worst of all runs, so repeating never flatters a bound.
 */
export function medianRun(runs: readonly BenchFigure[][]): BenchFigure[] {
  if (runs.length <= 1) return runs[0] ?? [];
  const ratioOf = (figures: readonly BenchFigure[]) => figures.find((f) => f.name.startsWith('throughput, '))?.ratio;
  const ratios = runs.map(ratioOf);
  if (ratios.some((r) => r === undefined)) return runs[0]!;
  const order = runs.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]!);
  const median = runs[order[Math.floor((order.length - 1) / 2)]!]!;
  const worst = (name: string) => Math.max(...runs.map((figures) => figures.find((f) => f.name === name)?.value ?? -Infinity));
  return median.map((f) => {
    if (f.name.startsWith('throughput, ')) return { ...f, note: `median of ${runs.length} runs, ratios ${ratios.map((r) => `${r!.toFixed(2)}×`).join(', ')}${f.note ? `; ${f.note}` : ''}` };
    if (f.name.startsWith('longest event-loop stall, ') || f.name.startsWith('peak RSS, ')) return { ...f, value: worst(f.name), note: `worst of ${runs.length} runs${f.note ? `; ${f.note}` : ''}` };
    return f;
  });
}

function caseInOwnProcess(c: Case): Promise<BenchFigure[]> {
  const args = ['--json', '--rollouts', String(c.rollouts), '--latency', String(c.latencyMs), '--threads', String(c.threads ?? 'auto'), ...(c.gauntletOnly ? ['--gauntlet-only'] : [])];
  return jsonFromScript(`throughput case ${c.rollouts}@${c.latencyMs}ms`, new URL(import.meta.url), args);
}

const USAGE = `usage: node --import tsx bench/throughput.ts [--rollouts N] [--latency MS] [--threads N|auto] [--runs N] [--gauntlet-only] [--json]
  Without options, runs the cases \`npm run bench -- throughput\` runs (${DEFAULT_CASES.map((c) => `${c.rollouts}@${c.latencyMs}ms${c.threads === undefined ? '' : ` --threads ${c.threads}`}`).join(', ')}).
  With --rollouts and/or --latency, runs that one case (defaults 1000 rollouts, 50 ms); --runs N runs it N
  times, a process each, and reports the run with the median ratio.
  --threads sets Gauntlet's rollout threads (default auto, as \`gauntlet run\`; 0 runs every rollout on the main thread).
  --gauntlet-only skips the bare client, for a CPU profile (node --cpu-prof) of Gauntlet's work alone.
  --retained measures only the heap a finished rollout leaves behind.`;

/** Direct use, for profiling one case: node --cpu-prof --import tsx bench/throughput.ts --rollouts 1000 --latency 50 */
async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { rollouts: { type: 'string' }, latency: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' }, 'gauntlet-only': { type: 'boolean' }, retained: { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.retained) {
    const figure = await retainedPerRollout();
    process.stdout.write(values.json ? `${JSON.stringify([figure], null, 2)}\n` : `${figure.name}: ${figure.value} ${figure.unit}  (${figure.note})\n`);
    return;
  }
  const positive = (flag: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new InputError(`bench/throughput.ts: --${flag}`, `'${text}' is not a positive integer`, 'e.g. 1000');
    return n;
  };
  const single = values.rollouts !== undefined || values.latency !== undefined;
  const runs = positive('runs', values.runs, 1);
  const chosen = single ? [{ rollouts: positive('rollouts', values.rollouts, 1000), latencyMs: positive('latency', values.latency, 50), runs }] : DEFAULT_CASES;
  const threads: number | 'auto' = values.threads === undefined || values.threads === 'auto' ? 'auto' : Number(values.threads);
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 0)) throw new InputError('bench/throughput.ts: --threads', `'${values.threads}' is not a thread count`, "a whole number ≥ 0, or 'auto'");
  const cases = chosen.map((c) => ({ ...c, ...(values.threads !== undefined || !('threads' in c) ? { threads } : {}), gauntletOnly: values['gauntlet-only'] ?? false }));
  const figures = await run(cases);
  if (values.json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  else for (const f of figures) process.stdout.write(`${f.name}: ${f.value} ${f.unit}${f.baseline ? `  vs ${f.baseline.name}: ${f.baseline.value} ${f.baseline.unit}` : ''}${f.ratio !== undefined ? `  ratio ${f.ratio.toFixed(2)}×` : ''}${f.note ? `  (${f.note})` : ''}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
