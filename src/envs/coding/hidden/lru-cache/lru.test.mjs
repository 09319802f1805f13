// Hidden suite for coding/lru-cache-recency. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { LRUCache: 'src/lru.js#LRUCache' },
  cases: [
    {
      name: 'keeps an entry that was read recently',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('a', 1).set('b', 2);
        cache.get('a');
        cache.set('c', 3);
        return [cache.has('a'), cache.has('b')];
      },
      expect: [true, false],
    },
    {
      name: 'peek does not count as a use',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('a', 1).set('b', 2);
        const peeked = cache.peek('a');
        cache.set('c', 3);
        return [peeked, cache.has('a')];
      },
      expect: [1, false],
    },
    {
      name: 'updating a cached key evicts nothing',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('a', 1).set('b', 2).set('a', 10);
        return [cache.keys(), cache.get('a'), cache.get('b')];
      },
      expect: [['b', 'a'], 10, 2],
    },
    {
      name: 'an updated key becomes the most recently used',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(3);
        cache.set('a', 1).set('b', 2).set('c', 3).set('a', 4).set('d', 5);
        return cache.keys();
      },
      expect: ['c', 'a', 'd'],
    },
    {
      name: 'a miss changes nothing',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('a', 1).set('b', 2);
        return [cache.get('zzz'), cache.keys()];
      },
      expect: [undefined, ['a', 'b']],
    },
    {
      name: 'keeps falsy values and refreshes them',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('zero', 0).set('b', 2);
        const zero = cache.get('zero');
        cache.set('c', 3);
        return [zero, cache.keys()];
      },
      expect: [0, ['zero', 'c']],
    },
  ],
};
