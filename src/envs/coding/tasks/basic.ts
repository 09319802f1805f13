// Small repos written for this environment, each with one or a few bugs.
import type { Task } from '../../../core/index.ts';
import { codingTask, edit, list, read, run, search, submit } from './build.ts';

export function basicTasks(): Task[] {
  return [
    codingTask({
      slug: 'inventory-pagination',
      instruction:
        'Bug report from the warehouse dashboard: with 25 items and a page size of 10, `Inventory#list` reports `totalPages: 2`, so the last five items can never be reached. Also, an item whose quantity is exactly its reorder level is not listed by `lowStock()` (the README says at or below). Please fix both in the inventory module.',
      difficulty: 'easy',
      labels: ['bugfix', 'off-by-one'],
      project: 'inventory',
      hidden: ['inventory/inventory.test.mjs', 'inventory/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('src/inventory.js'),
        edit('src/inventory.js', 'totalPages: Math.floor(all.length / pageSize),', 'totalPages: Math.ceil(all.length / pageSize),'),
        edit('src/inventory.js', 'item.quantity < item.reorderLevel', 'item.quantity <= item.reorderLevel'),
        run(),
        submit('totalPages rounds up; lowStock includes items at their reorder level'),
      ],
    }),
    codingTask({
      slug: 'lru-cache-recency',
      instruction:
        'Our LRU cache evicts the wrong entries. Reading an entry with `get` does not protect it from eviction, and calling `set` on a key that is already cached (to update it) throws out some other entry when the cache is full, and leaves the updated key where it was in the eviction order. The README describes the intended behaviour; please fix `src/lru.js`.',
      difficulty: 'easy',
      labels: ['bugfix', 'data-structures'],
      project: 'lru-cache',
      hidden: ['lru-cache/lru.test.mjs', 'lru-cache/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('README.md'),
        read('src/lru.js'),
        edit(
          'src/lru.js',
          '  get(key) {\n    return this.#map.get(key);\n  }',
          '  get(key) {\n    if (!this.#map.has(key)) return undefined;\n    const value = this.#map.get(key);\n    // Re-inserting moves the key to the most recently used end.\n    this.#map.delete(key);\n    this.#map.set(key, value);\n    return value;\n  }',
        ),
        edit(
          'src/lru.js',
          '    if (this.#map.size >= this.#max) {',
          '    if (this.#map.has(key)) {\n      this.#map.delete(key);\n    } else if (this.#map.size >= this.#max) {',
        ),
        run(),
        submit('get refreshes recency; set on an existing key moves it to most recent without evicting'),
      ],
    }),
    codingTask({
      slug: 'intervals-merge',
      instruction:
        '`merge` in the intervals package gives wrong answers: `merge([[8, 9], [1, 4], [2, 6]])` should be `[[1, 6], [8, 9]]`, touching intervals like `[1, 3]` and `[3, 5]` are not joined, and `[[1, 10], [2, 3]]` comes out as `[[1, 3]]`. It also seems to change the array we pass in. Please make it match the README.',
      difficulty: 'easy',
      labels: ['bugfix', 'algorithms'],
      project: 'intervals',
      hidden: ['intervals/intervals.test.mjs', 'intervals/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('src/intervals.js'),
        edit(
          'src/intervals.js',
          '  const out = [];\n  for (const interval of intervals) {\n    const last = out[out.length - 1];\n    if (last && interval[0] < last[1]) {\n      last[1] = interval[1];',
          '  // Copies, so merging never touches the caller\'s arrays.\n  const sorted = intervals.map(([start, end]) => [start, end]).sort((a, b) => a[0] - b[0]);\n  const out = [];\n  for (const interval of sorted) {\n    const last = out[out.length - 1];\n    if (last && interval[0] <= last[1]) {\n      last[1] = Math.max(last[1], interval[1]);',
        ),
        run(),
        submit('merge sorts a copy, joins touching intervals and keeps the larger end'),
      ],
    }),
    codingTask({
      slug: 'emitter-once-off',
      instruction:
        'Two bugs in our event emitter: (1) a listener registered with `once` cannot be removed with `off(event, listener)` before it fires; (2) when a `once` listener fires, the listener registered right after it is skipped for that emit. The README says what should happen when listeners change during an emit. Please fix `src/emitter.js`.',
      difficulty: 'easy',
      labels: ['bugfix', 'events'],
      project: 'emitter',
      hidden: ['emitter/emitter.test.mjs', 'emitter/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('src/emitter.js'),
        edit(
          'src/emitter.js',
          '      listener.apply(this, args);\n    };\n    return this.on(event, wrapper);',
          '      listener.apply(this, args);\n    };\n    // Remembered so off(event, listener) finds the wrapper.\n    wrapper.listener = listener;\n    return this.on(event, wrapper);',
        ),
        edit('src/emitter.js', '    const index = list.indexOf(listener);', '    const index = list.findIndex((l) => l === listener || l.listener === listener);'),
        edit(
          'src/emitter.js',
          '    for (let i = 0; i < list.length; i++) list[i].apply(this, args);',
          '    // A copy: listeners added or removed during this emit only affect later ones.\n    for (const listener of [...list]) listener.apply(this, args);',
        ),
        run(),
        submit('once wrappers remember the listener for off; emit iterates over a snapshot'),
      ],
    }),
    codingTask({
      slug: 'query-string-encoding',
      instruction:
        'The query strings we build break our search page: `buildQuery({ q: "fish & chips" })` is not encoded, array values come out as `tag=a,b`, and `undefined` values appear as `x=undefined`. Also `withQuery("/items?page=1", { size: 5 })` produces two `?`. Please make `src/query.js` follow the README.',
      difficulty: 'easy',
      labels: ['bugfix', 'web'],
      project: 'querystring-builder',
      hidden: ['querystring-builder/query.test.mjs', 'querystring-builder/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('README.md'),
        read('src/query.js'),
        edit(
          'src/query.js',
          '  for (const [key, value] of Object.entries(params)) {\n    parts.push(`${key}=${value}`);\n  }',
          '  for (const [key, value] of Object.entries(params)) {\n    for (const item of Array.isArray(value) ? value : [value]) {\n      if (item === undefined || item === null) continue;\n      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);\n    }\n  }',
        ),
        edit(
          'src/query.js',
          '  return `${url}?${query}`;',
          "  if (query === '') return url;\n  return `${url}${url.includes('?') ? '&' : '?'}${query}`;",
        ),
        run(),
        submit('encode keys and values, repeat array keys, skip null/undefined, append with & when needed'),
      ],
    }),
    codingTask({
      slug: 'money-rounding',
      instruction:
        'Finance found three problems in the money helpers: `toCents("0.29")` returns 28, `formatCents(-500)` prints `$-5.00` instead of `-$5.00`, and `splitEvenly(1000, 3)` returns shares that add up to 999. The README has the rules. Please fix them.',
      difficulty: 'medium',
      labels: ['bugfix', 'floating-point'],
      project: 'money',
      hidden: ['money/money.test.mjs', 'money/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        list('src'),
        read('src/parse.js'),
        edit('src/parse.js', '  return Math.floor(Number(trimmed) * 100);', '  // Rounding, not flooring: 0.29 * 100 is 28.999999999999996 in binary floating point.\n  return Math.round(Number(trimmed) * 100);'),
        read('src/format.js'),
        edit(
          'src/format.js',
          '  const whole = Math.trunc(cents / 100);\n  const fraction = String(Math.abs(cents % 100)).padStart(2, \'0\');\n  const grouped = String(whole).replace(/\\B(?=(\\d{3})+(?!\\d))/g, \',\');\n  return `${symbol}${grouped}.${fraction}`;',
          '  const sign = cents < 0 ? \'-\' : \'\';\n  const abs = Math.abs(cents);\n  const whole = Math.floor(abs / 100);\n  const fraction = String(abs % 100).padStart(2, \'0\');\n  const grouped = String(whole).replace(/\\B(?=(\\d{3})+(?!\\d))/g, \',\');\n  return `${sign}${symbol}${grouped}.${fraction}`;',
        ),
        read('src/split.js'),
        edit(
          'src/split.js',
          '  const share = Math.floor(cents / parts);\n  return Array.from({ length: parts }, () => share);',
          '  const share = Math.floor(cents / parts);\n  const remainder = cents - share * parts;\n  // The left-over cents go one each to the first shares.\n  return Array.from({ length: parts }, (_, i) => share + (i < remainder ? 1 : 0));',
        ),
        run(),
        submit('round when parsing, sign before the symbol, distribute the remainder cents'),
      ],
    }),
    codingTask({
      slug: 'rate-limiter-refill',
      instruction:
        'Our API rate limiter misbehaves. With `refillPerSecond: 10`, a client calling every 50 ms after using up its bucket never gets another request through, although it should get about 10 per second. And after a client is idle for a minute it can burst far more than `capacity` requests. Please fix the token bucket so it matches the README.',
      difficulty: 'medium',
      labels: ['bugfix', 'time'],
      project: 'rate-limiter',
      hidden: ['rate-limiter/bucket.test.mjs', 'rate-limiter/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('README.md'),
        read('src/bucket.js'),
        read('src/limiter.js'),
        edit(
          'src/bucket.js',
          '    const elapsedSeconds = Math.floor((current - this.#last) / 1000);\n    this.#tokens += elapsedSeconds * this.refillPerSecond;',
          '    // Fractions of a token accumulate; the bucket never holds more than its capacity.\n    const elapsedSeconds = (current - this.#last) / 1000;\n    this.#tokens = Math.min(this.capacity, this.#tokens + elapsedSeconds * this.refillPerSecond);',
        ),
        run(),
        submit('refill continuously (no flooring of elapsed seconds) and cap at capacity'),
      ],
    }),
    codingTask({
      slug: 'job-queue-order',
      instruction:
        'Jobs come out of our scheduler in the wrong order. With many jobs, a lower-priority job sometimes runs before a higher-priority one, and jobs with the same priority do not run first-in-first-out as the README promises. Please find and fix the causes (the heap and the scheduler both look suspicious).',
      difficulty: 'medium',
      labels: ['bugfix', 'data-structures'],
      project: 'job-queue',
      hidden: ['job-queue/queue.test.mjs', 'job-queue/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        list(),
        read('src/heap.js'),
        search('#less\\(right'),
        edit('src/heap.js', '      if (right < n && this.#less(right, left)) smallest = right;', '      if (right < n && this.#less(right, smallest)) smallest = right;'),
        read('src/scheduler.js'),
        edit(
          'src/scheduler.js',
          '  #heap = new MinHeap((a, b) => b.priority - a.priority);\n\n  add(name, priority = 0) {\n    this.#heap.push({ name, priority });',
          '  // Ties on priority go to the earlier job: a heap alone is not stable.\n  #heap = new MinHeap((a, b) => b.priority - a.priority || a.seq - b.seq);\n  #seq = 0;\n\n  add(name, priority = 0) {\n    this.#heap.push({ name, priority, seq: this.#seq++ });',
        ),
        run(),
        submit('siftDown compares the right child with the smallest so far; the scheduler breaks ties by arrival'),
      ],
    }),
  ];
}
