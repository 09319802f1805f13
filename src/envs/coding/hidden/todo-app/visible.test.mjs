// The repo's own tests (test/store.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { open: 'src/filters.js#open', formatTodo: 'src/format.js#formatTodo', TodoStore: 'src/store.js#TodoStore' },
  cases: [
    {
      name: 'adds and completes todos',
      run: ({ open, TodoStore }) => {
        const store = new TodoStore();
        store.add('Write report');
        store.add('Pay invoice', { priority: 'high' });
        store.complete('t1');
        return open(store.all()).map((t) => t.id);
      },
      expect: ['t2'],
    },
    {
      name: 'formats a todo without a due date',
      run: ({ formatTodo, TodoStore }) => formatTodo(new TodoStore().add('Water plants', { priority: 'low' }), '2024-05-01'),
      expect: '[ ] t1 Water plants',
    },
  ],
};
