import type { Discrimination, TaskDifficulty, TaskResult } from './schema.ts';

/** 1 − mean over models of the task's pass rate: 0 = every model always passes, 1 = none ever does. */
export function difficultyEstimate(results: readonly TaskResult[]): { passRate: number; difficultyEstimate: number; models: number; n: number } | null {
  const scored = results.filter((r) => r.scored > 0);
  if (scored.length === 0) return null;
  const passRate = scored.reduce((sum, r) => sum + (r.passRate ?? 0), 0) / scored.length;
  return { passRate, difficultyEstimate: 1 - passRate, models: scored.length, n: scored.reduce((sum, r) => sum + r.scored, 0) };
}

/**
 * Which tasks tell models apart. `perModel[m]` holds model m's task results; tasks are matched by
 * id. A task counts as all-pass or none-pass only when every model has scored attempts on it.
 */
export function discrimination(perModel: readonly (readonly TaskResult[])[]): Discrimination {
  const byTask = new Map<string, TaskResult[]>();
  for (const results of perModel) {
    for (const result of results) {
      const list = byTask.get(result.id);
      if (list) list.push(result);
      else byTask.set(result.id, [result]);
    }
  }
  const tasks: TaskDifficulty[] = [];
  const allModelsPass: string[] = [];
  const noModelPasses: string[] = [];
  const byTag = new Map<string, { tasks: number; sum: number }>();
  for (const [id, results] of byTask) {
    const estimate = difficultyEstimate(results);
    const first = results[0];
    if (!estimate || !first) continue;
    tasks.push({ id, domain: first.domain, taggedDifficulty: first.difficulty, ...estimate });
    const scored = results.filter((r) => r.scored > 0);
    if (estimate.models === perModel.length) {
      if (scored.every((r) => r.passes === r.scored)) allModelsPass.push(id);
      if (scored.every((r) => r.passes === 0)) noModelPasses.push(id);
    }
    const tag = byTag.get(first.difficulty) ?? { tasks: 0, sum: 0 };
    tag.tasks++;
    tag.sum += estimate.difficultyEstimate;
    byTag.set(first.difficulty, tag);
  }
  const byTaggedDifficulty = Object.fromEntries(
    [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tag, v]) => [tag, { tasks: v.tasks, meanDifficultyEstimate: v.sum / v.tasks }]),
  );
  return { models: perModel.length, allModelsPass, noModelPasses, tasks, byTaggedDifficulty };
}
