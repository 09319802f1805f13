// Hidden suite for coding/escape-html-apostrophe. Each probe runs in the sandbox and returns a
// value; the expectation beside it stays in the grader.
export default {
  imports: { escapeHtml: 'index.js#default' },
  cases: [
    { name: 'escapes a lone apostrophe', run: ({ escapeHtml }) => [escapeHtml("it's"), escapeHtml("'")], expect: ['it&#39;s', '&#39;'] },
    { name: 'escapes each special character on its own', run: ({ escapeHtml }) => ['"', '&', '<', '>'].map((c) => escapeHtml(c)), expect: ['&quot;', '&amp;', '&lt;', '&gt;'] },
    {
      name: 'escapes mixed text',
      run: ({ escapeHtml }) => [escapeHtml("<p class='x'>a & b</p>"), escapeHtml("don't & won't")],
      expect: ['&lt;p class=&#39;x&#39;&gt;a &amp; b&lt;/p&gt;', 'don&#39;t &amp; won&#39;t'],
    },
    { name: 'stringifies other values', run: ({ escapeHtml }) => [escapeHtml(42), escapeHtml(null)], expect: ['42', 'null'] },
  ],
};
