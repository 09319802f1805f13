// Soak: heap used after a full GC at two points of a long stream of in-process rollouts (runs of
// 100 on one store, as a long-lived process serves run after run). A leak per rollout or per run
// shows as a slope between the two points; a flat line is what a process that runs for weeks needs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RunConfig } from '../src/core/index.ts';
import { getEnvironment } from '../src/envs/index.ts';
import { createScriptedModel, Script } from '../src/model/index.ts';
import { executeRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { below } from './targets.ts';
import type { BenchFigure } from './types.ts';

const ENV = 'mail';
const PER_RUN = 100;
const FIRST = 1000;
const LAST = 5000;

export async function run(): Promise<BenchFigure[]> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapMb = (): number => {
    for (let i = 0; i < 3; i++) gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-soak-'));
  const store = openStore(join(dir, 'soak.db'));
  const task = getEnvironment(ENV).tasks()[0]!;
  // One tool call and an answer: the harness's own work per rollout, with little of the environment's.
  const model = createScriptedModel(Script.parse({ turns: [{ reasoning: 'Look first.', toolCalls: [{ id: 'call_0', name: 'list_folders', arguments: {} }] }, { content: 'Done.' }] }), 'soak');
  const heap = new Map<number, number>();
  const started = performance.now();
  try {
    for (let done = 0; done < LAST; done += PER_RUN) {
      const config = RunConfig.parse({ envs: [ENV], model: 'scripted', epochs: PER_RUN, concurrency: 8, seed: done, maxTurns: 4, deadlineMs: 600_000, maxAttempts: 1 });
      const summary = await executeRun({ store, model, run: { resolved: { config, tasks: [task] } } });
      if (summary.scored !== PER_RUN) throw new Error(`soak run scored ${summary.scored} of ${PER_RUN}`);
      if (done + PER_RUN === FIRST || done + PER_RUN === LAST) heap.set(done + PER_RUN, heapMb());
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const first = heap.get(FIRST)!;
  const last = heap.get(LAST)!;
  const slopeKb = ((last - first) * 1024 * 1000) / (LAST - FIRST);
  const note = `${LAST.toLocaleString('en-US')} rollouts in runs of ${PER_RUN} in ${seconds.toFixed(0)} s`;
  return [
    { name: `soak: heap used after GC, after ${FIRST.toLocaleString('en-US')} rollouts`, value: first, unit: 'MiB', note },
    { name: `soak: heap used after GC, after ${LAST.toLocaleString('en-US')} rollouts`, value: last, unit: 'MiB' },
    // A retained object per rollout of a few hundred bytes would cross this; noise is tens of KiB.
    { name: `soak: heap growth per 1,000 rollouts (${FIRST.toLocaleString('en-US')} → ${LAST.toLocaleString('en-US')})`, value: slopeKb, unit: 'KiB', targets: [below(512)] },
  ];
}
