// Hidden suite for coding/strkit-twelve-fixes. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { s: 'src/index.js' },
  cases: [
    {
      name: 'capitalize keeps the rest and handles empty strings',
      run: ({ s }) => ['hello World', 'eBay', ''].map((x) => s.capitalize(x)),
      expect: ['Hello World', 'EBay', ''],
    },
    {
      name: 'slugify drops accents and collapses separators',
      run: ({ s }) => ['  Crème Brûlée -- Recipe #2 ', 'Ünïcödé', '---'].map((x) => s.slugify(x)),
      expect: ['creme-brulee-recipe-2', 'unicode', ''],
    },
    {
      name: 'truncate fits max including the ellipsis',
      run: ({ s }) => [s.truncate('hello world', 8), s.truncate('hello', 5), s.truncate('hello world', 8, '...')],
      expect: ['hello w…', 'hello', 'hello...'],
    },
    {
      name: 'center puts the odd character on the right',
      run: ({ s }) => [s.center('abc', 8, '-'), s.center('abc', 7), s.center('toolong', 3)],
      expect: ['--abc---', '  abc  ', 'toolong'],
    },
    {
      name: 'camelCase splits on dashes, underscores and spaces',
      run: ({ s }) => ['foo-bar_baz qux', '__HTTP_status__code', 'already'].map((x) => s.camelCase(x)),
      expect: ['fooBarBazQux', 'httpStatusCode', 'already'],
    },
    {
      name: 'wordCount counts across any whitespace',
      run: ({ s }) => ['  one\ttwo  \n\nthree ', '', ' \n '].map((x) => s.wordCount(x)),
      expect: [3, 0, 0],
    },
    {
      name: 'reverseWords normalises whitespace',
      run: ({ s }) => [s.reverseWords('  the quick\tbrown\nfox '), s.reverseWords('   ')],
      expect: ['fox brown quick the', ''],
    },
    {
      name: 'isPalindrome ignores case and punctuation',
      run: ({ s }) => ['No lemon, no melon', 'Was it a car or a cat I saw?', '1a2', '12 21'].map((x) => s.isPalindrome(x)),
      expect: [true, true, false, true],
    },
    {
      name: 'stripTags removes all tags and decodes entities',
      run: ({ s }) => [s.stripTags('<ul><li>a &amp; b</li><li>&lt;c&gt;</li></ul>'), s.stripTags('&amp;lt;')],
      expect: ['a & b<c>', '&lt;'],
    },
    {
      name: 'wrap keeps every line within the width',
      run: ({ s }) => [s.wrap('the quick brown fox jumps over the lazy dog', 10), s.wrap('a verylongword b', 4)],
      expect: [['the quick', 'brown fox', 'jumps over', 'the lazy', 'dog'], ['a', 'verylongword', 'b']],
    },
    {
      name: 'escapeRegExp escapes every special character',
      run: ({ s }) => {
        const special = '\\^$.*+?()[]{}|';
        return [new RegExp(`^${s.escapeRegExp(special)}$`).test(special), s.escapeRegExp('a.b|c\\d')];
      },
      expect: [true, 'a\\.b\\|c\\\\d'],
    },
    {
      name: 'initials splits on whitespace and hyphens',
      run: ({ s }) => ['  jean-luc   picard ', 'grace hopper', 'mary-kate--olsen'].map((x) => s.initials(x)),
      expect: ['JLP', 'GH', 'MKO'],
    },
  ],
};
