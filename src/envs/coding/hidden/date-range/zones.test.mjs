// Hidden suite for coding/date-range-time-zones. Each probe runs in the sandbox and returns a
// value; the expectation beside it stays in the grader.
export default {
  imports: { parseDateTime: 'src/datetime.js#parseDateTime', range: 'src/range.js' },
  setup: ({ parseDateTime }) => ({ iso: (text) => parseDateTime(text).toISOString() }),
  cases: [
    { name: 'accepts Z', run: ({ iso }) => iso('2024-03-01T10:00Z'), expect: '2024-03-01T10:00:00.000Z' },
    {
      name: 'applies positive and negative offsets',
      run: ({ iso }) => [iso('2024-03-01T10:00+02:00'), iso('2024-03-01T22:30:15-05:00')],
      expect: ['2024-03-01T08:00:00.000Z', '2024-03-02T03:30:15.000Z'],
    },
    {
      name: 'applies offsets with minutes and without a colon',
      run: ({ iso }) => [iso('2024-03-01T10:00+05:30'), iso('2024-03-01T10:00+0530')],
      expect: ['2024-03-01T04:30:00.000Z', '2024-03-01T04:30:00.000Z'],
    },
    { name: 'rejects an offset past 24 hours', run: ({ parseDateTime }) => parseDateTime('2024-03-01T10:00+25:00'), throws: /invalid/ },
    { name: 'rejects offset minutes past 59', run: ({ parseDateTime }) => parseDateTime('2024-03-01T10:00+02:75'), throws: /invalid/ },
    { name: 'rejects a one-digit offset', run: ({ parseDateTime }) => parseDateTime('2024-03-01T10:00+2'), throws: /invalid/ },
    { name: 'still treats times without a zone as UTC', run: ({ iso }) => iso('2024-03-01T10:00'), expect: '2024-03-01T10:00:00.000Z' },
    {
      name: 'parses ranges whose sides have different zones',
      run: ({ range }) => range.durationMinutes(range.parseRange('2024-03-01T10:00+01:00/2024-03-01T10:00-01:00')),
      expect: 120,
    },
    {
      name: 'a time-only end takes the start zone',
      run: ({ range }) => {
        const r = range.parseRange('2024-03-01T23:00+02:00/23:45');
        return [r.start.toISOString(), r.end.toISOString()];
      },
      expect: ['2024-03-01T21:00:00.000Z', '2024-03-01T21:45:00.000Z'],
    },
    {
      name: 'a time-only end may carry its own zone',
      run: ({ range }) => range.parseRange('2024-03-01T10:00Z/12:00+01:00').end.toISOString(),
      expect: '2024-03-01T11:00:00.000Z',
    },
    {
      name: 'compares zoned ranges by instant',
      run: ({ range }) => range.overlaps(range.parseRange('2024-03-01T10:00+02:00/11:00'), range.parseRange('2024-03-01T08:30Z/09:30Z')),
      expect: true,
    },
    {
      name: 'rejects a range that ends before it starts once zones apply',
      run: ({ range }) => range.parseRange('2024-03-01T10:00Z/2024-03-01T11:00+02:00'),
      throws: /before/,
    },
  ],
};
