// Hidden suite for coding/range-parser-suffix-combine. Each probe runs in the sandbox and returns a
// value; the expectation beside it stays in the grader.
export default {
  imports: { parseRange: 'index.js#default' },
  // The result is an array with a `type` property: compared as plain ranges.
  setup: ({ parseRange }) => ({
    ranges: (...args) => {
      const result = parseRange(...args);
      return Array.isArray(result) ? result.map((r) => ({ ...r })) : result;
    },
  }),
  cases: [
    {
      name: 'parses suffix ranges as the last N bytes',
      run: ({ ranges }) => [ranges(1000, 'bytes=-400'), ranges(1000, 'bytes=-1')],
      expect: [[{ start: 600, end: 999 }], [{ start: 999, end: 999 }]],
    },
    { name: 'a suffix as long as the entity covers all of it', run: ({ ranges }) => ranges(200, 'bytes=-200'), expect: [{ start: 0, end: 199 }] },
    {
      name: 'combines adjacent ranges',
      run: ({ ranges }) => [ranges(150, 'bytes=0-4,5-9', { combine: true }), ranges(150, 'bytes=0-4,90-99,5-75,100-199,101-102', { combine: true })],
      expect: [[{ start: 0, end: 9 }], [{ start: 0, end: 75 }, { start: 90, end: 149 }]],
    },
    {
      name: 'keeps separate ranges separate',
      run: ({ ranges }) => [ranges(150, 'bytes=0-4,6-9', { combine: true }), ranges(1000, 'bytes=40-80,-1')],
      expect: [[{ start: 0, end: 4 }, { start: 6, end: 9 }], [{ start: 40, end: 80 }, { start: 999, end: 999 }]],
    },
  ],
};
