// One line per todo for the CLI and the daily e-mail.
import { daysUntil } from './dates.js';

const MARKERS = { high: '', normal: '', low: '' };

export function dueText(due, today) {
  if (due === null) return '';
  const days = daysUntil(due, today);
  if (days < 0) return `${-days} ${days === -1 ? 'day' : 'days'} overdue`;
  if (days === 0) return 'due today';
  if (days === 1) return 'due tomorrow';
  return `due in ${days} days`;
}

export function formatTodo(todo, today) {
  const marker = MARKERS[todo.priority];
  const box = todo.done ? '[x]' : '[ ]';
  const due = dueText(todo.due, today);
  return `${marker ? `${marker} ` : ''}${box} ${todo.id} ${todo.title}${due ? ` (${due})` : ''}`;
}
