// Sandbox costs: a command in a persistent bwrap sandbox against fresh namespaces per command
// (and the in-process virtual shell), the terminal environment's step latency, how many
// sandboxes can be held open (and how many run commands at once) before a step gets twice as
// slow, and what an idle sandbox holds in memory.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Sandbox, Task } from '../src/core/index.ts';
import { instantiate } from '../src/envs/instance.ts';
import { terminal, terminalTasks } from '../src/envs/terminal/index.ts';
import { idleProcessesOf } from '../src/sandbox/bwrap.ts';
import { createSandbox, resourceControl, sandboxAvailability, type BwrapMode } from '../src/sandbox/index.ts';
import { atLeast, atMost } from './targets.ts';
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

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Fields 14-17 of /proc/<pid>/stat in ms: CPU used by the process, and by the children it reaped. */
function cpuTimes(pid: number | 'self'): { own: number; reaped: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { own: (fields[11]! + fields[12]!) * TICK_MS, reaped: (fields[13]! + fields[14]!) * TICK_MS };
}

/**
 * Wall-clock latencies of `true`, and the CPU it cost per command: ours, the bwraps we reaped
 * (fresh), and the supervisor with the commands it reaped (persistent). Unlike latency, that does
 * not depend on how busy the machine is.
 */
async function execTimes(backend: 'virtual' | 'bwrap', mode?: BwrapMode): Promise<{ times: number[]; cpuMs: number }> {
  const sandbox = await createSandbox({ backend, ...(mode ? { mode } : {}) });
  const count = 200;
  try {
    await timeExecs(sandbox, 'true', 5); // warm-up
    const supervisor = (await idleProcessesOf(sandbox))[1]; // bwrap outside only waits
    const cpu = () => {
      const self = cpuTimes('self');
      const inside = supervisor === undefined ? 0 : cpuTimes(supervisor).own + cpuTimes(supervisor).reaped;
      return self.own + self.reaped + inside;
    };
    const before = cpu();
    const times = await timeExecs(sandbox, 'true', count);
    return { times, cpuMs: (cpu() - before) / count };
  } finally {
    await sandbox.close();
  }
}

/** The machine's load while measuring: figures from a shared two-core machine mean little without it. */
const load = () => `load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`;

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
  const control = resourceControl();
  const limitsNote = control.mode === 'cgroup-v2' ? 'whole-sandbox cgroup v2 limits' : `per-process limits (${control.reason})`;

  const virtual = await execTimes('virtual');
  const fresh = await execTimes('bwrap', 'fresh');
  const persistent = await execTimes('bwrap', 'persistent');
  figures.push({
    name: 'CPU time per bwrap exec of `true`, persistent sandbox (ours and the sandbox\'s)',
    value: round(persistent.cpuMs),
    unit: 'ms',
    baseline: { name: 'fresh namespaces per command', value: round(fresh.cpuMs), unit: 'ms' },
    ratio: persistent.cpuMs / fresh.cpuMs,
    note: 'independent of how busy the machine is: the latency an idle core would see, less pipe and scheduling delays',
  });
  for (const p of [50, 99]) {
    const persistentP = percentile(persistent.times, p);
    const freshP = percentile(fresh.times, p);
    figures.push({
      name: `bwrap exec of \`true\`, persistent sandbox, p${p}`,
      value: round(persistentP),
      unit: 'ms',
      baseline: { name: `fresh namespaces per command, p${p}`, value: round(freshP), unit: 'ms' },
      ratio: persistentP / freshP,
      targets: [atMost(p === 50 ? 5 : 20)],
      note: `virtual shell p${p}: ${round(percentile(virtual.times, p))} ms; seccomp on, ${limitsNote}; ${load()}`,
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

  figures.push(...(await heldOpen()));

  const levels = [1, 2, 4, 8, 16, 32];
  const sandboxes = await openSandboxes(levels.at(-1)!);
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
      note: `each of N persistent sandboxes running commands back to back, small workload (${WORKLOAD}); mean latency by level: ${seen.join(', ')}; ${load()}`,
    });
  } finally {
    await Promise.all(sandboxes.map((sb) => sb.close()));
  }
  return figures;
}

/** Opens persistent sandboxes ten at a time. */
async function openSandboxes(count: number, into: Sandbox[] = []): Promise<Sandbox[]> {
  while (into.length < count) {
    into.push(...(await Promise.all(Array.from({ length: Math.min(10, count - into.length) }, () => createSandbox({ backend: 'bwrap' })))));
  }
  return into;
}

/** Median latency of a step taken in each open sandbox in turn (one at a time, as agents waiting on a model do). */
async function roundRobinStep(sandboxes: Sandbox[]): Promise<number> {
  const samples: number[] = [];
  const rounds = Math.max(1, Math.ceil(60 / sandboxes.length));
  for (let round = 0; round < rounds; round++) {
    for (const sandbox of sandboxes) samples.push(...(await timeExecs(sandbox, WORKLOAD, 1)));
  }
  return percentile(samples, 50);
}

/** kB of a process's resident set, and its proportional share where /proc lets us read it. */
function memoryOf(pid: number): { rss: number; pss: number | null } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss, pss: Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) };
  } catch {
    return { rss, pss: null };
  }
}

/** How many sandboxes can be held open before a step in them gets twice as slow, and what each holds while idle. */
async function heldOpen(): Promise<BenchFigure[]> {
  const levels = [1, 10, 25, 50, 75, 100];
  const sandboxes: Sandbox[] = [];
  const seen: string[] = [];
  let base = Number.NaN;
  let sustained = 0;
  let memory = { rss: 0, pss: 0, pssKnown: true, count: 0 };
  try {
    for (const level of levels) {
      await openSandboxes(level, sandboxes);
      const latency = await roundRobinStep(sandboxes);
      if (level === 1) base = latency;
      seen.push(`${level}: ${round(latency)} ms`);
      if (latency >= 2 * base) break;
      sustained = level;
      if (level === 50) {
        const pids = (await Promise.all(sandboxes.map((sb) => idleProcessesOf(sb)))).flat();
        const each = pids.map(memoryOf);
        memory = {
          rss: each.reduce((sum, m) => sum + m.rss, 0),
          pss: each.reduce((sum, m) => sum + (m.pss ?? 0), 0),
          pssKnown: each.every((m) => m.pss !== null),
          count: sandboxes.length,
        };
      }
    }
  } finally {
    await Promise.all(sandboxes.map((sb) => sb.close()));
  }
  const figures: BenchFigure[] = [
    {
      name: 'persistent sandboxes held open before step latency doubles',
      value: sustained,
      unit: 'sandboxes',
      note: `p50 of a step (${WORKLOAD}) taken in each open sandbox in turn, by sandboxes open: ${seen.join(', ')}; levels tried up to ${levels.at(-1)}; ${load()}`,
      targets: [atLeast(50)],
    },
  ];
  if (memory.count > 0) {
    figures.push({
      name: 'memory per idle persistent sandbox (resident set of its bwrap and supervisor)',
      value: round(memory.rss / memory.count / 1024),
      unit: 'MiB',
      note: `${memory.pssKnown ? `proportional set size (shared pages split): ${round(memory.pss / memory.count / 1024)} MiB; ` : ''}measured over ${memory.count} open sandboxes; an empty work dir and /tmp hold no memory`,
    });
  }
  return figures;
}
