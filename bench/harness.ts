// Harness overhead: the agent loop + store + runner with an in-process scripted model, against a
// bare loop that makes the same tool calls on the same environment directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfig, type Task } from '../src/core/index.ts';
import { getEnvironment, instantiate } from '../src/envs/index.ts';
import { createScriptedModel, Script, type ScriptInput } from '../src/model/index.ts';
import { executeRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { atLeast } from './targets.ts';
import type { BenchFigure } from './types.ts';

const ENV = 'mail';
type Call = { name: string; arguments: Record<string, string> };
/** A realistic mix (full-text search is the costliest mail tool) and a cheap step that exposes the harness's own cost. */
const MIXES: { name: string; calls: Call[] }[] = [
  { name: 'search + list', calls: [{ name: 'search_messages', arguments: { query: 'invoice' } }, { name: 'list_folders', arguments: {} }] },
  { name: 'list_folders only', calls: [{ name: 'list_folders', arguments: {} }] },
];

function scriptFor(steps: number, calls: Call[]): ScriptInput {
  return {
    turns: [
      ...Array.from({ length: steps }, (_, i) => ({
        reasoning: `Step ${i}: look around before acting.`,
        toolCalls: [{ id: `call_${i}`, ...calls[i % calls.length]! }],
      })),
      { content: 'Done.' },
    ],
  };
}

async function harness(task: Task, steps: number, rollouts: number, calls: Call[], where: 'file' | 'memory' = 'file'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-bench-'));
  const store = openStore(where === 'file' ? join(dir, 'bench.db') : ':memory:');
  try {
    const model = createScriptedModel(Script.parse(scriptFor(steps, calls)), 'bench');
    const started = performance.now();
    const config = RunConfig.parse({ envs: [ENV], model: 'scripted', epochs: rollouts, concurrency: 4, seed: 1, maxTurns: steps + 2, deadlineMs: 600_000 });
    const summary = await executeRun({ store, model, run: { resolved: { config, tasks: [task] } } });
    const seconds = (performance.now() - started) / 1000;
    if (summary.scored !== rollouts) throw new Error(`bench run scored ${summary.scored} of ${rollouts}`);
    return (steps * rollouts) / seconds;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bare(task: Task, steps: number, rollouts: number, calls: Call[]): Promise<number> {
  const definition = getEnvironment(ENV);
  const signal = new AbortController().signal;
  const started = performance.now();
  for (let r = 0; r < rollouts; r++) {
    const env = instantiate(definition);
    await env.reset(task, { seed: r });
    for (let i = 0; i < steps; i++) {
      const call = calls[i % calls.length]!;
      await env.call(call.name, call.arguments, { signal });
    }
    await env.verify({ answer: 'Done.' });
    await env.close();
  }
  return (steps * rollouts) / ((performance.now() - started) / 1000);
}

export async function run(): Promise<BenchFigure[]> {
  const task = getEnvironment(ENV).tasks()[0]!;
  const figures: BenchFigure[] = [];
  for (const mix of MIXES) {
    const perStep: Record<number, number> = {};
    for (const steps of [10, 100]) {
      const rollouts = Math.round(20_000 / steps);
      await harness(task, steps, Math.max(2, rollouts / 10), mix.calls); // warm-up
      const bareRate = await bare(task, steps, rollouts, mix.calls);
      const harnessRate = await harness(task, steps, rollouts, mix.calls);
      perStep[steps] = 1 / harnessRate;
      figures.push({
        name: `harness, ${steps}-step rollouts, ${mix.name} (${ENV}, scripted model, every record persisted)`,
        value: Math.round(harnessRate),
        unit: 'steps/s',
        baseline: { name: 'bare loop, same tool calls', value: Math.round(bareRate), unit: 'steps/s' },
        ratio: harnessRate / bareRate,
        targets: [atLeast(5000), atLeast(0.5, 'ratio')],
      });
    }
    figures.push({ name: `per-step cost at 100 vs 10 steps, ${mix.name} (≤ 1.0: does not grow with history)`, value: perStep[100]! / perStep[10]!, unit: '×' });
  }
  // What durability costs: the same 100-step rollouts committed to a WAL file (each rollout's calls,
  // events and row in one transaction) against an in-memory database that survives nothing.
  const cheap = MIXES[1]!.calls;
  const durable = await harness(task, 100, 200, cheap, 'file');
  const volatile = await harness(task, 100, 200, cheap, 'memory');
  figures.push({
    name: 'store crash-safety cost: 100-step rollouts to a file (one transaction per finished rollout) vs in memory',
    value: Math.round(durable),
    unit: 'steps/s',
    baseline: { name: 'same run, in-memory SQLite (no durability)', value: Math.round(volatile), unit: 'steps/s' },
    ratio: durable / volatile,
    // Above 1 is possible: a run of 100+ rollouts writes a file store from a thread of its own, which an in-memory store cannot.
    note: 'the file store writes from its own thread; an in-memory store cannot',
  });
  return figures;
}
