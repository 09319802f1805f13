// Every built-in coding task, built once on first use (real-world tasks read node_modules then).
import type { Task } from '../../../core/index.ts';
import { basicTasks } from './basic.ts';
import { featureTasks } from './features.ts';
import { manyFileTasks } from './many.ts';
import { realWorldTasks } from './realworld.ts';

let cached: Task[] | undefined;

export function codingTasks(): Task[] {
  cached ??= [...basicTasks(), ...featureTasks(), ...manyFileTasks(), ...realWorldTasks()];
  return cached;
}
