// The repo's own tests (test/lru.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { LRUCache: 'src/lru.js#LRUCache' },
  cases: [
    {
      name: 'stores and returns values',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('a', 1).set('b', 2);
        return [cache.get('a'), cache.size];
      },
      expect: [1, 2],
    },
    {
      name: 'evicts when full',
      run: ({ LRUCache }) => {
        const cache = new LRUCache(2);
        cache.set('a', 1).set('b', 2).set('c', 3);
        return [cache.size, cache.has('c')];
      },
      expect: [2, true],
    },
    { name: 'rejects a bad size', run: ({ LRUCache }) => new LRUCache(0), throws: 'RangeError' },
  ],
};
