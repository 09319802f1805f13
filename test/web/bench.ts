// Benchmark: time to first render in Chromium — from navigation to the first real content on
// screen (rows, steps) — for the runs list, a 10,000-rollout run and a 100-turn trajectory, with
// the longest main-thread task seen while getting there. Each page is opened fresh `repeats`
// times and the median reported. No assertions: `npm run bench` prints the figures.
import type { BenchFigure } from '../../bench/types.ts';
import { writeLargeRun, writeLongTrajectory } from './fixtures.ts';
import { startViewer } from './harness.ts';
import { longTasksSince, recordLongTasks, timeToFirstRender } from './perf.ts';

export interface FirstRenderFigures {
  page: string;
  /** Median ms from navigation start to the first frame with content. */
  firstRenderMs: number;
  /** Median over the repeats of the longest task before that frame. */
  longestTaskMs: number;
  repeats: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export async function benchWebFirstRender(options: { repeats?: number; rollouts?: number; turns?: number } = {}): Promise<FirstRenderFigures[]> {
  const repeats = options.repeats ?? 5;
  const viewer = await startViewer({
    fill: (store) => ({ large: writeLargeRun(store, { rollouts: options.rollouts ?? 10_000 }), long: writeLongTrajectory(store, { turns: options.turns ?? 100 }) }),
  });
  try {
    const pages = [
      { page: 'runs list', path: '/#/runs', selector: '[data-testid=runs-table] [aria-rowindex]' },
      { page: `run of ${(options.rollouts ?? 10_000).toLocaleString('en-US')} rollouts`, path: `/#/runs/${viewer.data.large.runId}`, selector: '[data-testid=rollouts-table] [aria-rowindex]' },
      { page: `${options.turns ?? 100}-turn trajectory`, path: `/#/rollouts/${viewer.data.long.rolloutId}`, selector: '[data-testid=step]' },
    ];
    const out: FirstRenderFigures[] = [];
    for (const { page: name, path, selector } of pages) {
      const times: number[] = [];
      const tasks: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const page = await viewer.browser.newPage();
        await recordLongTasks(page);
        times.push(await timeToFirstRender(page, `${viewer.server.url}${path}`, selector));
        tasks.push((await longTasksSince(page)).longestMs);
        await page.close();
      }
      out.push({ page: name, firstRenderMs: median(times), longestTaskMs: median(tasks), repeats });
    }
    return out;
  } finally {
    await viewer.close();
  }
}

/** The same figures in `npm run bench`'s shape. */
export async function runWebBench(): Promise<BenchFigure[]> {
  const figures = await benchWebFirstRender();
  return figures.flatMap((f) => [
    { name: `first render: ${f.page}`, value: Math.round(f.firstRenderMs), unit: 'ms', note: `median of ${f.repeats} fresh loads in headless Chromium` },
    { name: `longest task before it: ${f.page}`, value: Math.round(f.longestTaskMs), unit: 'ms' },
  ]);
}
