import type { Task } from '../../../core/index.ts';
import { followupTasks } from './followups.ts';
import { quotesTask } from './quotes.ts';
import { escalationsTask } from './escalations.ts';
import { rsvpsTask } from './rsvps.ts';
import { expensesTask } from './expenses.ts';
import { interviewsTask, renewalsTask } from './scheduling.ts';
import { featureRequestsTask, partnerIntrosTask, standupBlockersTask } from './medium.ts';
import { budgetLeftTask, callMovedTask, clashingInvitesTask, launchSlipTask } from './updates.ts';

export function workplaceFamilyTasks(): Task[] {
  return [...followupTasks(), quotesTask(), escalationsTask(), rsvpsTask(), expensesTask(), interviewsTask(), renewalsTask(), standupBlockersTask(), featureRequestsTask(), partnerIntrosTask(), launchSlipTask(), callMovedTask(), clashingInvitesTask(), budgetLeftTask()];
}
