import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from '../src/filters.js';
import { formatTodo } from '../src/format.js';
import { TodoStore } from '../src/store.js';

test('adds and completes todos', () => {
  const store = new TodoStore();
  store.add('Write report');
  store.add('Pay invoice', { priority: 'high' });
  store.complete('t1');
  assert.deepEqual(open(store.all()).map((t) => t.id), ['t2']);
});

test('formats a todo without a due date', () => {
  const store = new TodoStore();
  const todo = store.add('Water plants', { priority: 'low' });
  assert.equal(formatTodo(todo, '2024-05-01'), '[ ] t1 Water plants');
});
