import type { Task } from '../../../core/index.ts';
import { meetingTasks } from './meetings.ts';
import { mediumTasks } from './medium.ts';
import { trackerTasks } from './trackers.ts';
import { triageTasks } from './triage.ts';

/** Tasks generated in code: the many-record ones whose fixtures and golden steps are computed. */
export function notesFamilyTasks(): Task[] {
  return [...trackerTasks(), ...meetingTasks(), ...triageTasks(), ...mediumTasks()];
}
