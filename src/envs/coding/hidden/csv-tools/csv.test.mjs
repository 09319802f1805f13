// Hidden suite for coding/csv-quoted-fields. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { csv: 'src/index.js' },
  data: {
    rows: [
      ['plain', 'with, comma', 'with "quote"', 'multi\nline', ''],
      ['x', '', '""', ' spaced ', 'end'],
    ],
  },
  cases: [
    { name: 'keeps delimiters inside quotes', run: ({ csv }) => csv.parse('"Smith, Jane",42\n'), expect: [['Smith, Jane', '42']] },
    { name: 'unescapes doubled quotes', run: ({ csv }) => csv.parse('"say ""hi""",x\n'), expect: [['say "hi"', 'x']] },
    {
      name: 'keeps line breaks inside quotes',
      run: ({ csv }) => csv.parse('id,note\n1,"line one\nline two"\n2,ok\n'),
      expect: [['id', 'note'], ['1', 'line one\nline two'], ['2', 'ok']],
    },
    { name: 'accepts CRLF line ends', run: ({ csv }) => csv.parse('a,b\r\n1,"x\r\ny"\r\n'), expect: [['a', 'b'], ['1', 'x\r\ny']] },
    { name: 'handles empty and quoted empty fields', run: ({ csv }) => csv.parse(',""\n"",\n'), expect: [['', ''], ['', '']] },
    { name: 'parses without a final line break', run: ({ csv }) => csv.parse('a,"b"'), expect: [['a', 'b']] },
    { name: 'uses another delimiter', run: ({ csv }) => csv.parse('a;"b;c"\n', { delimiter: ';' }), expect: [['a', 'b;c']] },
    {
      name: 'maps quoted records to objects',
      run: ({ csv }) => csv.parse('name,"notes, misc"\n"Doe, J","a\nb"\n', { header: true }),
      expect: [{ name: 'Doe, J', 'notes, misc': 'a\nb' }],
    },
    {
      name: 'round-trips stringify',
      run: ({ csv, data }) => csv.parse(csv.stringify(data.rows)),
      expect: [
        ['plain', 'with, comma', 'with "quote"', 'multi\nline', ''],
        ['x', '', '""', ' spaced ', 'end'],
      ],
    },
  ],
};
