// Hidden suite for coding/todo-app-issues. Each probe runs in the sandbox and returns a value; the
// expectation beside it stays in the grader.
export default {
  imports: { dates: 'src/dates.js', filters: 'src/filters.js', format: 'src/format.js', TodoStore: 'src/store.js#TodoStore' },
  data: { today: '2024-02-28' },
  setup: ({ TodoStore }) => ({
    board() {
      const store = new TodoStore();
      store.add('Old and done', { due: '2024-02-01' });
      store.add('Old and open', { due: '2024-02-27', priority: 'high' });
      store.add('Future', { due: '2024-03-01' });
      store.add('No date');
      store.complete('t1');
      return store;
    },
  }),
  cases: [
    { name: 'leaves done todos out', run: ({ filters, board, data: { today } }) => filters.overdue(board().all(), today).map((t) => t.id), expect: ['t2'] },
    { name: 'throws naming the id', run: ({ board }) => board().complete('t99'), throws: /no todo t99/ },
    {
      name: 'still completes known todos',
      run: ({ board }) => {
        const store = board();
        store.complete('t3');
        return store.all().find((t) => t.id === 't3').done;
      },
      expect: true,
    },
    {
      name: 'counts calendar days',
      run: ({ dates, data: { today } }) => ['2024-02-29', '2024-03-01', today, '2024-02-27', '2025-02-28'].map((d) => dates.daysUntil(d, today)),
      expect: [1, 2, 0, -1, 366],
    },
    {
      name: 'words the due date',
      run: ({ format, data: { today } }) => ['2024-02-28', '2024-02-29', '2024-03-03', '2024-02-27', '2024-02-20'].map((d) => format.dueText(d, today)),
      expect: ['due today', 'due tomorrow', 'due in 4 days', '1 day overdue', '8 days overdue'],
    },
    { name: 'selects todos due within a window', run: ({ filters, board, data: { today } }) => filters.dueWithin(board().all(), today, 2).map((t) => t.id), expect: ['t3'] },
    {
      name: 'keeps addDays consistent',
      run: ({ dates, data: { today } }) => [dates.addDays(today, 2), dates.daysUntil(dates.addDays(today, 10), today)],
      expect: ['2024-03-01', 10],
    },
    { name: 'marks high priority with !', run: ({ format, board, data: { today } }) => format.formatTodo(board().all()[1], today), expect: '! [ ] t2 Old and open (1 day overdue)' },
    {
      name: 'leaves normal and low unmarked',
      run: ({ format, TodoStore, data: { today } }) => {
        const store = new TodoStore();
        return [format.formatTodo(store.add('A', { due: '2024-02-29' }), today), format.formatTodo(store.add('B', { priority: 'low' }), today)];
      },
      expect: ['[ ] t1 A (due tomorrow)', '[ ] t2 B'],
    },
  ],
};
