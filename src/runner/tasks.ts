import { InputError, type RunConfig, type Task } from '../core/index.ts';
import { environmentNames, getEnvironment, loadTaskFile } from '../envs/index.ts';

/**
 * The tasks a run covers: the tasks in `taskFiles` when given, else every built-in task of the
 * named environments; narrowed to `taskIds` when given.
 */
export function resolveTasks(envs: readonly string[], taskIds?: readonly string[], taskFiles?: readonly string[]): Task[] {
  const all = taskFiles && taskFiles.length > 0 ? taskFiles.flatMap((file) => loadTaskFile(file)) : envs.flatMap((name) => getEnvironment(name).tasks());
  for (const task of all) {
    if (!environmentNames().includes(task.env)) throw new InputError(`task ${task.id}`, `unknown environment "${task.env}"`, `one of ${environmentNames().join(', ')}`);
  }
  if (!taskIds || taskIds.length === 0) return all;
  const byId = new Map(all.map((t) => [t.id, t]));
  const missing = taskIds.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw new InputError('--task', `unknown task id${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, `ids listed by \`gauntlet tasks --env ${envs.join(',')}\``);
  }
  return taskIds.map((id) => byId.get(id)!);
}

export function tasksForConfig(config: Pick<RunConfig, 'envs' | 'taskIds' | 'taskFiles'>): Task[] {
  return resolveTasks(config.envs, config.taskIds, config.taskFiles);
}
