// The repo's own tests (test/bytes.test.mjs), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { bytes: 'index.js#default' },
  cases: [{ name: 'formats and parses', run: ({ bytes }) => [bytes(1024), bytes('1KB'), bytes.parse('1.5mb')], expect: ['1KB', 1024, 1572864] }],
};
