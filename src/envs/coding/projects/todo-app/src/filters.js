// The board's views.
import { daysUntil } from './dates.js';

export function open(todos) {
  return todos.filter((t) => !t.done);
}

export function overdue(todos, today) {
  return todos.filter((t) => t.due !== null && daysUntil(t.due, today) < 0);
}

export function dueWithin(todos, today, days) {
  return open(todos).filter((t) => t.due !== null && daysUntil(t.due, today) >= 0 && daysUntil(t.due, today) <= days);
}
