// Which environments and tasks a command means: from --env, or from the tasks of --tasks-file.
import { InputError, type Task } from '../core/index.ts';
import { environmentNames, getEnvironment, LOADED_FROM_FILE_HINT, loadTaskFile, type EnvironmentDefinition } from '../envs/index.ts';
import { selectTasks } from '../runner/index.ts';

/** The environment an `--env` value names; an unknown name is that flag's mistake. */
export function environmentFor(name: string): EnvironmentDefinition {
  try {
    return getEnvironment(name);
  } catch (error) {
    throw error instanceof InputError ? error.at('--env') : error;
  }
}

/**
 * The environments the tasks of these files belong to, in the order they first appear. The files
 * name them, so an unknown one is the file's mistake, named with its task.
 */
export function environmentsOfTaskFiles(files: readonly string[]): string[] {
  const known = environmentNames();
  const envs = new Set<string>();
  for (const file of files) {
    for (const task of loadTaskFile(file)) {
      if (!known.includes(task.env)) throw new InputError(`${file}: task ${task.id}`, `unknown environment "${task.env}"`, `one of ${known.join(', ')}; ${LOADED_FROM_FILE_HINT}`);
      envs.add(task.env);
    }
  }
  return [...envs];
}

export interface EnvironmentTasks {
  name: string;
  definition: EnvironmentDefinition;
  tasks: Task[];
}

/**
 * What `tasks` and `validate` look at, per environment: the tasks of --tasks-file when given (of
 * the files' environments unless --env picks some), else each environment's built-in tasks. An
 * environment left with no task is refused: looking at nothing must not pass for a result.
 */
export function tasksByEnvironment(flags: { env?: string[]; tasksFile?: string[] }): EnvironmentTasks[] {
  const files = flags.tasksFile;
  const envs = flags.env ?? (files ? environmentsOfTaskFiles(files) : undefined);
  if (envs === undefined) throw new InputError('--env', 'no environment given', `--env NAME (one of ${environmentNames().join(', ')}) or --tasks-file FILE`);
  const definitions = envs.map(environmentFor);
  // Broken tasks are not refused here: `validate` reports them task by task.
  const fromFiles = files ? selectTasks({ envs, taskFiles: files }, undefined, { checkTasks: false }) : undefined;
  return envs.map((name, i) => {
    const definition = definitions[i]!;
    const tasks = (fromFiles ?? definition.tasks()).filter((t) => t.env === name);
    if (tasks.length === 0) throw noTasksOf(name, files, fromFiles);
    return { name, definition, tasks };
  });
}

function noTasksOf(env: string, files: readonly string[] | undefined, fromFiles: readonly Task[] | undefined): InputError {
  if (!files || !fromFiles) return new InputError('--env', `${env} has no built-in tasks`, `--tasks-file FILE with tasks of ${env}`);
  const theirs = [...new Set(fromFiles.map((t) => t.env))];
  return new InputError('--env', `no task in ${files.join(', ')} belongs to environment ${env}`, `an environment of the file's tasks (${theirs.join(', ')}), or no --env to take them all`);
}
