// The repo's own tests (test/csv.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { csv: 'src/index.js' },
  cases: [
    { name: 'parses plain records', run: ({ csv }) => csv.parse('a,b\n1,2\n'), expect: [['a', 'b'], ['1', '2']] },
    { name: 'maps records to objects with a header', run: ({ csv }) => csv.parse('name,qty\npen,3\n', { header: true }), expect: [{ name: 'pen', qty: '3' }] },
    { name: 'quotes fields when writing', run: ({ csv }) => csv.stringify([['a,b', 'say "hi"']]), expect: '"a,b","say ""hi"""\n' },
  ],
};
