// Hidden suite for coding/job-queue-order. Each probe runs in the sandbox and returns a value; the
// expectation beside it stays in the grader.
export default {
  imports: { MinHeap: 'src/heap.js#MinHeap', Scheduler: 'src/scheduler.js#Scheduler' },
  setup: ({ MinHeap }) => ({
    drainHeap(values, compare) {
      const heap = new MinHeap(compare);
      for (const v of values) heap.push(v);
      const out = [];
      while (heap.size > 0) out.push(heap.pop());
      return out;
    },
  }),
  cases: [
    { name: 'sorts a known tricky sequence', run: ({ drainHeap }) => drainHeap([1, 5, 3, 6, 7, 4, 2]), expect: [1, 2, 3, 4, 5, 6, 7] },
    {
      name: 'sorts many pseudo-random numbers',
      run: ({ drainHeap }) => {
        let seed = 7;
        const values = Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 1000);
        return drainHeap(values);
      },
      check: (actual, assert) => {
        let seed = 7;
        const values = Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 1000);
        assert.deepEqual(actual, [...values].sort((a, b) => a - b));
      },
    },
    { name: 'uses the comparator', run: ({ drainHeap }) => drainHeap(['ccc', 'a', 'bb', 'dddd'], (a, b) => b.length - a.length), expect: ['dddd', 'ccc', 'bb', 'a'] },
    {
      name: 'runs jobs of equal priority first in, first out',
      run: ({ Scheduler }) => {
        const s = new Scheduler();
        for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) s.add(name, 1);
        return s.drain();
      },
      expect: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    },
    {
      name: 'orders by priority then arrival',
      run: ({ Scheduler }) => {
        const s = new Scheduler();
        for (const [name, priority] of [['x1', 0], ['y1', 2], ['x2', 0], ['z1', 9], ['y2', 2], ['x3', 0], ['y3', 2]]) s.add(name, priority);
        return s.drain();
      },
      expect: ['z1', 'y1', 'y2', 'y3', 'x1', 'x2', 'x3'],
    },
    {
      name: 'keeps arrival order across drains',
      run: ({ Scheduler }) => {
        const s = new Scheduler();
        s.add('a', 1);
        s.drain();
        s.add('b', 1);
        s.add('c', 1);
        return s.drain();
      },
      expect: ['b', 'c'],
    },
  ],
};
