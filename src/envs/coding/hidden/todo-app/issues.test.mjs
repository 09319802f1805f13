import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDays, daysUntil } from '../src/dates.js';
import { dueWithin, overdue } from '../src/filters.js';
import { dueText, formatTodo } from '../src/format.js';
import { TodoStore } from '../src/store.js';

const today = '2024-02-28';

function board() {
  const store = new TodoStore();
  store.add('Old and done', { due: '2024-02-01' });
  store.add('Old and open', { due: '2024-02-27', priority: 'high' });
  store.add('Future', { due: '2024-03-01' });
  store.add('No date');
  store.complete('t1');
  return store;
}

describe('issue 41: overdue view', () => {
  it('leaves done todos out', () => {
    assert.deepEqual(overdue(board().all(), today).map((t) => t.id), ['t2']);
  });
});

describe('issue 44: completing unknown todos', () => {
  it('throws naming the id', () => {
    assert.throws(() => board().complete('t99'), /no todo t99/);
  });

  it('still completes known todos', () => {
    const store = board();
    store.complete('t3');
    assert.equal(store.all().find((t) => t.id === 't3').done, true);
  });
});

describe('issue 47: due dates', () => {
  it('counts calendar days', () => {
    assert.equal(daysUntil('2024-02-29', today), 1);
    assert.equal(daysUntil('2024-03-01', today), 2);
    assert.equal(daysUntil(today, today), 0);
    assert.equal(daysUntil('2024-02-27', today), -1);
    assert.equal(daysUntil('2025-02-28', today), 366);
  });

  it('words the due date', () => {
    assert.equal(dueText('2024-02-28', today), 'due today');
    assert.equal(dueText('2024-02-29', today), 'due tomorrow');
    assert.equal(dueText('2024-03-03', today), 'due in 4 days');
    assert.equal(dueText('2024-02-27', today), '1 day overdue');
    assert.equal(dueText('2024-02-20', today), '8 days overdue');
  });

  it('selects todos due within a window', () => {
    assert.deepEqual(dueWithin(board().all(), today, 2).map((t) => t.id), ['t3']);
  });

  it('keeps addDays consistent', () => {
    assert.equal(addDays(today, 2), '2024-03-01');
    assert.equal(daysUntil(addDays(today, 10), today), 10);
  });
});

describe('issue 52: priority markers', () => {
  it('marks high priority with !', () => {
    const store = board();
    assert.equal(formatTodo(store.all()[1], today), '! [ ] t2 Old and open (1 day overdue)');
  });

  it('leaves normal and low unmarked', () => {
    const store = new TodoStore();
    assert.equal(formatTodo(store.add('A', { due: '2024-02-29' }), today), '[ ] t1 A (due tomorrow)');
    assert.equal(formatTodo(store.add('B', { priority: 'low' }), today), '[ ] t2 B');
  });
});
