// The repo's own tests (test/escape.test.mjs), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { escapeHtml: 'index.js#default' },
  cases: [
    { name: 'escapes markup', run: ({ escapeHtml }) => escapeHtml('<a href="x">Tom & Jerry</a>'), expect: '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&lt;/a&gt;' },
    { name: 'leaves plain text alone', run: ({ escapeHtml }) => escapeHtml('plain text'), expect: 'plain text' },
  ],
};
