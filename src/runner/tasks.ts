import { InputError, type Task } from '../core/index.ts';
import { getEnvironment } from '../envs/index.ts';

/** The tasks a run covers: every task of the named environments, narrowed to `taskIds` when given. */
export function resolveTasks(envs: readonly string[], taskIds?: readonly string[]): Task[] {
  const all = envs.flatMap((name) => getEnvironment(name).tasks());
  if (!taskIds || taskIds.length === 0) return all;
  const byId = new Map(all.map((t) => [t.id, t]));
  const missing = taskIds.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw new InputError('--task', `unknown task id${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, `ids listed by \`gauntlet tasks --env ${envs.join(',')}\``);
  }
  return taskIds.map((id) => byId.get(id)!);
}
