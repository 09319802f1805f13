// The repo's own tests (test/strkit.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test. Each case imports its module directly, as the tests do.
export default {
  imports: {
    camelCase: 'src/camel-case.js#camelCase',
    capitalize: 'src/capitalize.js#capitalize',
    center: 'src/center.js#center',
    escapeRegExp: 'src/escape-regexp.js#escapeRegExp',
    initials: 'src/initials.js#initials',
    isPalindrome: 'src/palindrome.js#isPalindrome',
    reverseWords: 'src/reverse-words.js#reverseWords',
    slugify: 'src/slugify.js#slugify',
    stripTags: 'src/strip-tags.js#stripTags',
    truncate: 'src/truncate.js#truncate',
    wordCount: 'src/word-count.js#wordCount',
    wrap: 'src/wrap.js#wrap',
  },
  cases: [
    { name: 'camelCase: splits on underscores', run: ({ camelCase }) => camelCase('max_retry-count'), expect: 'maxRetryCount' },
    { name: 'capitalize: capitalizes only the first character', run: ({ capitalize }) => capitalize('iPhone'), expect: 'IPhone' },
    { name: 'center: puts the extra padding on the right', run: ({ center }) => center('ab', 5, '*'), expect: '*ab**' },
    { name: 'escapeRegExp: escapes the pipe', run: ({ escapeRegExp }) => new RegExp(escapeRegExp('a|b')).test('a'), expect: false },
    { name: 'initials: splits hyphenated names', run: ({ initials }) => initials('ada king-lovelace'), expect: 'AKL' },
    { name: 'isPalindrome: ignores punctuation', run: ({ isPalindrome }) => isPalindrome('A man, a plan, a canal: Panama'), expect: true },
    { name: 'reverseWords: reverses words separated by several spaces', run: ({ reverseWords }) => reverseWords('a  b c'), expect: 'c b a' },
    { name: 'slugify: collapses separators', run: ({ slugify }) => slugify('Hello,  World!'), expect: 'hello-world' },
    { name: 'stripTags: removes every tag', run: ({ stripTags }) => stripTags('<p>Hi <b>there</b></p>'), expect: 'Hi there' },
    { name: 'truncate: keeps the result within max', run: ({ truncate }) => truncate('abcdefghij', 5), expect: 'abcd…' },
    { name: 'wordCount: counts words across lines', run: ({ wordCount }) => wordCount('one two\nthree'), expect: 3 },
    { name: 'wrap: never exceeds the width', run: ({ wrap }) => wrap('aaa bbbb cc', 7), expect: ['aaa', 'bbbb cc'] },
  ],
};
