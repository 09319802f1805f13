// Sandbox costs: bwrap start-up against the in-process virtual shell, the terminal environment's
// step latency on both, and how many bwrap commands run at once before each one gets twice as slow.
import type { Sandbox, Task } from '../src/core/index.ts';
import { instantiate } from '../src/envs/instance.ts';
import { terminal, terminalTasks } from '../src/envs/terminal/index.ts';
import { createSandbox, sandboxAvailability } from '../src/sandbox/index.ts';
import type { BenchFigure } from './types.ts';

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

async function timeExecs(sandbox: Sandbox, command: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const result = await sandbox.exec(command, { timeoutMs: 10_000 });
    samples.push(performance.now() - started);
    if (result.exitCode !== 0) throw new Error(`bench: \`${command}\` exited ${result.exitCode} on ${sandbox.backend}: ${result.stderr}`);
  }
  return samples;
}

async function startup(backend: 'virtual' | 'bwrap'): Promise<number[]> {
  const sandbox = await createSandbox({ backend });
  try {
    await timeExecs(sandbox, 'true', 5); // warm-up
    return await timeExecs(sandbox, 'true', 80);
  } finally {
    await sandbox.close();
  }
}

/** Median latency of one terminal tool call, through the environment (validation, audit row, sandbox). */
async function stepLatency(backend: 'virtual' | 'bwrap', task: Task, call: { tool: string; arguments: Record<string, unknown> }): Promise<number> {
  const env = instantiate(terminal, { sandbox: backend });
  const signal = new AbortController().signal;
  try {
    await env.reset(task, { seed: 1 });
    const samples: number[] = [];
    for (let i = 0; i < 45; i++) {
      const started = performance.now();
      const out = await env.call(call.tool, call.arguments, { signal });
      if (!out.ok) throw new Error(`bench: ${call.tool} failed: ${out.error}`);
      if (i >= 5) samples.push(performance.now() - started);
    }
    return percentile(samples, 50);
  } finally {
    await env.close();
  }
}

const WORKLOAD = 'seq 1 3000 | sort -rn | head -n 1 > /dev/null && ls -la > /dev/null';

/** Mean latency per command with `level` sandboxes each running commands back to back. */
async function latencyAt(level: number, sandboxes: Sandbox[]): Promise<number> {
  const perWorker = Math.max(3, Math.ceil(24 / level));
  const all = await Promise.all(sandboxes.slice(0, level).map((sb) => timeExecs(sb, WORKLOAD, perWorker)));
  const samples = all.flat();
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

export async function run(): Promise<BenchFigure[]> {
  const { bwrap } = await sandboxAvailability();
  if (!bwrap.available) throw new Error(`the sandbox bench needs bwrap: ${bwrap.reason}`);
  const figures: BenchFigure[] = [];

  const virtualStart = await startup('virtual');
  const bwrapStart = await startup('bwrap');
  for (const p of [50, 99]) {
    const b = percentile(bwrapStart, p);
    const v = percentile(virtualStart, p);
    figures.push({
      name: `bwrap exec of \`true\`, p${p}`,
      value: round(b),
      unit: 'ms',
      baseline: { name: `virtual exec of \`true\`, p${p}`, value: round(v), unit: 'ms' },
      ratio: b / v,
      note: 'fresh user/pid/net/ipc/uts namespaces per command, as uid 65534',
    });
  }

  const task = terminalTasks().find((t) => t.id === 'terminal/count-error-lines');
  if (!task) throw new Error('bench: task terminal/count-error-lines is missing');
  const calls = [
    { label: 'run_command (awk | wc over a log)', call: { tool: 'run_command', arguments: { command: "awk '$3 == \"ERROR\"' logs/app.log | wc -l" } } },
    { label: 'read_file', call: { tool: 'read_file', arguments: { path: 'logs/app.log' } } },
    { label: 'write_file', call: { tool: 'write_file', arguments: { path: 'out/report.txt', content: 'errors: 7\n' } } },
  ];
  for (const { label, call } of calls) {
    const b = await stepLatency('bwrap', task, call);
    const v = await stepLatency('virtual', task, call);
    figures.push({ name: `terminal step p50, ${label}, bwrap`, value: round(b), unit: 'ms', baseline: { name: 'same on virtual', value: round(v), unit: 'ms' }, ratio: b / v });
  }

  const levels = [1, 2, 4, 8, 16, 32];
  const sandboxes = await Promise.all(levels.slice(-1).flatMap((n) => Array.from({ length: n }, () => createSandbox({ backend: 'bwrap' }))));
  try {
    await latencyAt(2, sandboxes); // warm-up
    const base = await latencyAt(1, sandboxes);
    let sustained = 1;
    const seen: string[] = [`1: ${round(base)} ms`];
    for (const level of levels.slice(1)) {
      const latency = await latencyAt(level, sandboxes);
      seen.push(`${level}: ${round(latency)} ms`);
      if (latency >= 2 * base) break;
      sustained = level;
    }
    figures.push({
      name: 'concurrent bwrap commands before per-command latency doubles',
      value: sustained,
      unit: 'concurrent',
      note: `small workload (${WORKLOAD}); mean latency by level: ${seen.join(', ')}`,
    });
  } finally {
    await Promise.all(sandboxes.map((sb) => sb.close()));
  }
  return figures;
}
