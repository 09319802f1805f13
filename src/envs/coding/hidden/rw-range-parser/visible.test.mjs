// The repo's own tests (test/range.test.mjs), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { parseRange: 'index.js#default' },
  cases: [
    {
      name: 'parses a simple range',
      run: ({ parseRange }) => {
        const ranges = parseRange(1000, 'bytes=0-499');
        return [ranges.type, [...ranges]];
      },
      expect: ['bytes', [{ start: 0, end: 499 }]],
    },
    { name: 'reports malformed and unsatisfiable ranges', run: ({ parseRange }) => [parseRange(1000, 'bytes'), parseRange(200, 'bytes=500-999')], expect: [-2, -1] },
  ],
};
