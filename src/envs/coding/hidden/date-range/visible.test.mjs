// The repo's own tests (test/range.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { range: 'src/range.js' },
  cases: [
    {
      name: 'parses a UTC range',
      run: ({ range }) => {
        const r = range.parseRange('2024-03-01T10:00/2024-03-01T12:30');
        return [r.start.toISOString(), range.durationMinutes(r)];
      },
      expect: ['2024-03-01T10:00:00.000Z', 150],
    },
    { name: 'end may be a time only', run: ({ range }) => range.parseRange('2024-03-01T10:00/11:00').end.toISOString(), expect: '2024-03-01T11:00:00.000Z' },
    { name: 'rejects reversed ranges', run: ({ range }) => range.parseRange('2024-03-01T10:00/09:00'), throws: /before/ },
    {
      name: 'touching ranges do not overlap',
      run: ({ range }) => range.overlaps(range.parseRange('2024-03-01T10:00/11:00'), range.parseRange('2024-03-01T11:00/12:00')),
      expect: false,
    },
  ],
};
