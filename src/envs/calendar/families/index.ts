import type { Task } from '../../../core/index.ts';
import { bulkTasks } from './bulk.ts';
import { maintenanceTasks } from './maintenance.ts';
import { schedulingTasks } from './scheduling.ts';
import { singleTasks } from './single.ts';

/** Tasks generated in code: the many-event ones whose fixtures and golden steps are computed. */
export function calendarFamilyTasks(): Task[] {
  return [...schedulingTasks(), ...bulkTasks(), ...maintenanceTasks(), ...singleTasks()];
}
