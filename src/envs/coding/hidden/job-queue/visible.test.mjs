// The repo's own tests (test/queue.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { MinHeap: 'src/heap.js#MinHeap', Scheduler: 'src/scheduler.js#Scheduler' },
  cases: [
    {
      name: 'pops a few numbers in order',
      run: ({ MinHeap }) => {
        const heap = new MinHeap();
        for (const n of [3, 1, 2]) heap.push(n);
        return [heap.pop(), heap.pop(), heap.pop(), heap.pop()];
      },
      expect: [1, 2, 3, undefined],
    },
    {
      name: 'runs higher priorities first',
      run: ({ Scheduler }) => {
        const s = new Scheduler();
        s.add('low', 1);
        s.add('high', 5);
        return s.drain();
      },
      expect: ['high', 'low'],
    },
  ],
};
