import type { Task } from '../../../core/index.ts';

export function mailFamilyTasks(): Task[] {
  return [];
}
