// Hidden suite for coding/bytes-iec-units. Each probe runs in the sandbox and returns a value; the
// expectation beside it stays in the grader.
export default {
  imports: { bytes: 'index.js#default' },
  cases: [
    {
      name: 'parses KiB to PiB',
      run: ({ bytes }) => ['1KiB', '1.5 MiB', '2GiB', '1TiB', '1PiB'].map((s) => bytes.parse(s)),
      expect: [1024, 1572864, 2147483648, Math.pow(1024, 4), Math.pow(1024, 5)],
    },
    { name: 'ignores case', run: ({ bytes }) => [bytes.parse('1kib'), bytes.parse('1MIB'), bytes('3 gib')], expect: [1024, 1048576, 3221225472] },
    {
      name: 'keeps the existing units and numbers',
      run: ({ bytes }) => ['1KB', '1 mb', '-1.5kb', '1024', 42, 'foo'].map((s) => bytes.parse(s)),
      expect: [1024, 1048576, -1536, 1024, 42, null],
    },
    {
      name: 'formats as before',
      run: ({ bytes }) => [bytes(1024), bytes(1536, { unitSeparator: ' ' }), bytes(1000, { thousandsSeparator: ',', unit: 'B' })],
      expect: ['1KB', '1.5 KB', '1,000B'],
    },
  ],
};
