// `npm run bench` judges each figure against its targets, so a regression past one (a peak RSS
// crossing 1 GiB, a ratio falling under its bound) is named in the output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { atLeast, atMost, below, describeTarget, missedTargets, verdict } from '../bench/targets.ts';
import { medianRun } from '../bench/throughput.ts';
import type { BenchFigure } from '../bench/types.ts';

const figure = (over: Partial<BenchFigure>): BenchFigure => ({ name: 'f', value: 1, unit: 'MiB', ...over });

describe('bench targets', () => {
  it('judges bounds on the value and on the ratio, edges included where the bound includes them', () => {
    assert.deepEqual(missedTargets(figure({ value: 1023, targets: [below(1024)] })), []);
    assert.deepEqual(missedTargets(figure({ value: 1024, targets: [below(1024)] })), [below(1024)]);
    assert.deepEqual(missedTargets(figure({ value: 100, targets: [atMost(100)] })), []);
    assert.deepEqual(missedTargets(figure({ value: 101, targets: [atMost(100)] })), [atMost(100)]);
    assert.deepEqual(missedTargets(figure({ value: 5, ratio: 0.5, targets: [atLeast(0.5, 'ratio')] })), []);
    assert.deepEqual(missedTargets(figure({ value: 5000, ratio: 0.49, targets: [atLeast(5000), atLeast(0.5, 'ratio')] })), [atLeast(0.5, 'ratio')]);
  });

  it('says whether a figure met its targets, names what it missed, and judges nothing it cannot', () => {
    assert.equal(verdict(figure({ value: 900, targets: [below(1024)] })), ' — target met');
    assert.equal(verdict(figure({ value: 1059, targets: [below(1024)] })), ' — MISSED target < 1,024 MiB');
    assert.equal(verdict(figure({ value: 3, unit: 'calls/s', ratio: 0.3, targets: [atLeast(5000), atLeast(0.5, 'ratio')] })), ' — MISSED target ≥ 5,000 calls/s and ≥ 0.5×');
    assert.equal(verdict(figure({ value: 3 })), '');
    // A ratio target on a figure whose baseline was not measured (--gauntlet-only) is not judged.
    assert.equal(missedTargets(figure({ targets: [atLeast(0.8, 'ratio')] })), null);
    assert.equal(verdict(figure({ targets: [atLeast(0.8, 'ratio')] })), ' — target not judged (no ratio measured)');
    assert.equal(describeTarget(atLeast(1.7, 'ratio'), 'rollouts/s'), '≥ 1.7×');
  });

  it('reports a repeated case by its run with the median ratio, and its stall and RSS by the worst run', () => {
    const run = (ratio: number, stall: number, rss: number): BenchFigure[] => [
      { name: 'throughput, case', value: ratio * 1000, unit: 'calls/s', ratio, targets: [atLeast(0.5, 'ratio')] },
      { name: 'main-thread CPU per model call, case', value: ratio, unit: 'ms' },
      { name: 'longest event-loop stall, case', value: stall, unit: 'ms', targets: [atMost(100)] },
      { name: 'peak RSS, case', value: rss, unit: 'MiB', targets: [below(1024)] },
    ];
    const [throughput, cpu, stall, rss] = medianRun([run(0.52, 40, 700), run(0.44, 120, 650), run(0.48, 30, 1100)]);
    assert.equal(throughput!.ratio, 0.48);
    assert.equal(throughput!.value, 480);
    assert.match(throughput!.note!, /median of 3 runs, ratios 0\.52×, 0\.44×, 0\.48×/);
    assert.equal(cpu!.value, 0.48);
    // The median run's own stall (30 ms) and RSS (1,100 MiB) would hide the other runs' worst.
    assert.deepEqual([stall!.value, rss!.value], [120, 1100]);
    assert.deepEqual(missedTargets(stall!), [atMost(100)]);
    // Of an even count, the lower middle stands: repeating never rounds a figure up.
    assert.equal(medianRun([run(0.6, 1, 1), run(0.4, 1, 1)])[0]!.ratio, 0.4);
    assert.deepEqual(medianRun([run(0.3, 1, 1)]), run(0.3, 1, 1));
  });

  it('npm run bench ends with the targets met and lists those missed, and --json carries each verdict', async () => {
    const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/index.ts', 'training', ...args], { cwd: new URL('..', import.meta.url).pathname, timeout: 120_000 });
    const text = await run([]);
    assert.match(text.stdout, /training tokens after prefix merging: .* — target met/);
    assert.match(text.stdout, /\ntargets: (\d+) of \1 met in this run\n$/);
    const json = JSON.parse((await run(['--json'])).stdout) as { results: { figures: (BenchFigure & { met?: boolean | null })[] }[]; missedTargets: string[] };
    const judged = json.results.flatMap((r) => r.figures).filter((f) => f.targets);
    assert.ok(judged.length > 0 && judged.every((f) => f.met === true));
    assert.deepEqual(json.missedTargets, []);
  });
});
