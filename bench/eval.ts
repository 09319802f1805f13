// Eval: how long a full report takes for 10,000 stored rollouts with 10,000 bootstrap resamples,
// next to the cost of loading those rollouts (zod-parsing them from JSON, as a stand-in for a store).
import { Rollout } from '../src/core/index.ts';
import { buildReport, compareRuns } from '../src/eval/index.ts';
import type { RunInput } from '../src/eval/index.ts';
import { simulateRun, simulateTasks } from '../src/eval/simulate.ts';
import type { BenchFigure } from './types.ts';

const TASKS = 1000;
const EPOCHS = 5;
const RESAMPLES = 10_000;
const REPEATS = 5;

/** Median milliseconds of `repeats` runs after one warm-up. */
function medianMs(work: () => void, repeats = REPEATS): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** Stored rollouts carry a verifier outcome and reward terms; give the synthetic ones the same weight. */
function withVerdicts(run: RunInput): RunInput {
  return {
    ...run,
    rollouts: run.rollouts.map((r) => {
      if (r.status !== 'scored') return r;
      const passed = r.passed === true;
      const checks = [
        { name: 'reply_sent', kind: 'outcome' as const, passed, detail: passed ? 'reply found in sent folder' : 'no reply in sent folder' },
        { name: 'inbox_untouched', kind: 'invariant' as const, passed: true },
        { name: 'labels_unchanged', kind: 'invariant' as const, passed: true },
      ];
      return { ...r, verifier: { passed, score: passed ? 1 : 0, checks }, rewardTerms: [{ name: 'verifier', value: passed ? 1 : 0, weight: 1, source: 'verifier' as const }] };
    }),
  };
}

export async function run(): Promise<BenchFigure[]> {
  const tasks = simulateTasks({ count: TASKS, domains: ['mail', 'calendar', 'notes', 'terminal', 'workplace'] });
  const runs = ['a', 'b'].map((side, m) =>
    withVerdicts(
      simulateRun({ runId: `run_${side}`, model: `model-${side}`, tasks, epochs: EPOCHS, seed: `bench:${side}`, infraErrorRate: 0.02, probability: (_t, i) => ((i * 37) % 100) / 100 - m * 0.05 + 0.05 }),
    ),
  );
  const rollouts = runs.flatMap((r) => r.rollouts);
  const json = rollouts.map((r) => JSON.stringify(r));

  const loadMs = medianMs(() => {
    for (const line of json) Rollout.parse(JSON.parse(line));
  });
  const reportMs = medianMs(() => buildReport({ runs, tasks, options: { seed: 1, resamples: RESAMPLES, minEffect: 0.05 } }));
  const [a, b] = runs as [RunInput, RunInput];
  const compareMs = medianMs(() => compareRuns({ a, b, tasks, seed: 1, resamples: RESAMPLES }));

  const load = { name: `zod-parse ${rollouts.length.toLocaleString('en-US')} rollouts from JSON`, value: round(loadMs), unit: 'ms' };
  const shape = `${runs.length} models × ${TASKS} tasks × ${EPOCHS} epochs, 5 domains, 2% infra errors`;
  return [
    {
      name: `full report, ${rollouts.length.toLocaleString('en-US')} rollouts, ${RESAMPLES.toLocaleString('en-US')} resamples`,
      value: round(reportMs),
      unit: 'ms',
      baseline: load,
      ratio: reportMs / loadMs,
      note: `${shape}; bootstraps overall and per domain for each model; loading is measured as zod-parsing the rollouts from JSON strings, a stand-in for reading the store`,
    },
    { name: `compare two runs (${TASKS} paired tasks, ${RESAMPLES.toLocaleString('en-US')} resamples)`, value: round(compareMs), unit: 'ms', baseline: load, ratio: compareMs / loadMs, note: 'paired bootstrap and sign-flip test, overall and 5 domains' },
    load,
  ];
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
