// What a full suite costs per task, against what loading the task costs: 1,000 tasks (the built-in
// ones, repeated under new ids) parsed from JSON, then perturbed by every perturbation in the
// catalog, one arm each and all of them at once.
import { performance } from 'node:perf_hooks';
import { Task } from '../core/index.ts';
import { environmentNames, getEnvironment } from '../envs/index.ts';
import { perturbEpisode, toolsOf } from './apply.ts';
import { PERTURBATIONS } from './catalog.ts';
import { resolvePerturbations, type PerturbationSpec, type ResolvedPerturbations } from './spec.ts';

export interface PerturbBench {
  tasks: number;
  /** Arms applied to every task: each perturbation alone, and every compatible one together. */
  arms: number;
  loadMs: number;
  applyMs: number;
  /** applyMs ÷ loadMs: what perturbing a whole suite costs next to loading the tasks once. */
  ratio: number;
  /** Episodes perturbed per second. */
  episodesPerSecond: number;
}

/** Every perturbation alone with its defaults, and one arm with all that can go together. */
function fullSuite(): ResolvedPerturbations[] {
  // scaffold.budget has no default (it needs a budget to set); scaffold.thinking and scaffold.tools both choose the scaffold.
  const spec = (id: string): PerturbationSpec => ({ id, params: id === 'scaffold.budget' ? { turns: 2 } : {} });
  const alone = PERTURBATIONS.map((p) => resolvePerturbations([spec(p.id)]));
  const together = resolvePerturbations(PERTURBATIONS.filter((p) => p.id !== 'scaffold.thinking').map((p) => spec(p.id)));
  return [...alone, together];
}

export function benchPerturbations(options: { tasks?: number } = {}): PerturbBench {
  const count = options.tasks ?? 1000;
  const builtins = environmentNames().flatMap((name) => getEnvironment(name).tasks());
  const texts = Array.from({ length: count }, (_, i) => {
    const task = builtins[i % builtins.length]!;
    return JSON.stringify({ ...task, id: `${task.id}-${i}` });
  });
  const loadStart = performance.now();
  const tasks = texts.map((text) => Task.parse(JSON.parse(text)));
  const loadMs = performance.now() - loadStart;

  const arms = fullSuite();
  const tools = new Map(environmentNames().map((name) => [name, toolsOf(getEnvironment(name))]));
  let episodes = 0;
  const applyStart = performance.now();
  for (const task of tasks) {
    for (const resolved of arms) {
      const episode = perturbEpisode({ task, tools: tools.get(task.env) ?? [], resolved, seed: 7 });
      // Touch the result so the work is not optimised away.
      if (episode.task.instruction.length === 0) throw new Error('empty instruction');
      episodes++;
    }
  }
  const applyMs = performance.now() - applyStart;
  return { tasks: count, arms: arms.length, loadMs, applyMs, ratio: applyMs / loadMs, episodesPerSecond: episodes / (applyMs / 1000) };
}
