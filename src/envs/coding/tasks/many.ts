// Long-horizon tasks: a dozen independent fixes, one per file, where each fix needs that file
// read first, and an API change that touches every rule module. Shortest solutions: 20+ calls.
import type { Task, ToolInvocation } from '../../../core/index.ts';
import { codingTask, edit, list, read, run, submit } from './build.ts';

/** [file, old text, new text]: each fix is read, then edited. */
type Fix = [file: string, oldText: string, newText: string];

function readThenEdit(fixes: Fix[]): ToolInvocation[] {
  return fixes.flatMap(([file, oldText, newText]) => [read(file), edit(file, oldText, newText)]);
}

const STRKIT_FIXES: Fix[] = [
  ['src/capitalize.js', '  return str[0].toUpperCase() + str.slice(1).toLowerCase();', "  return str === '' ? '' : str[0].toUpperCase() + str.slice(1);"],
  [
    'src/slugify.js',
    "    .toLowerCase()\n    .replace(/[^a-z0-9]/g, '-')",
    "    .normalize('NFD')\n    .replace(/[\\u0300-\\u036f]/g, '')\n    .toLowerCase()\n    .replace(/[^a-z0-9]+/g, '-')",
  ],
  ['src/truncate.js', '  if (str.length < max) return str;\n  return str.slice(0, max) + ellipsis;', '  if (str.length <= max) return str;\n  return str.slice(0, Math.max(0, max - ellipsis.length)) + ellipsis;'],
  ['src/center.js', '  const left = Math.ceil(total / 2);', '  const left = Math.floor(total / 2);'],
  ['src/camel-case.js', '    .split(/[-\\s]+/)', '    .split(/[-_\\s]+/)'],
  ['src/word-count.js', "  return text.split(' ').length;", '  const trimmed = text.trim();\n  return trimmed === \'\' ? 0 : trimmed.split(/\\s+/).length;'],
  ['src/reverse-words.js', "  return str.split(' ').reverse().join(' ');", "  return str.trim().split(/\\s+/).filter(Boolean).reverse().join(' ');"],
  ['src/palindrome.js', '  const chars = str.toLowerCase();', "  const chars = str.toLowerCase().replace(/[^a-z0-9]/g, '');"],
  ['src/strip-tags.js', "  return html.replace(/<[^>]*>/, '')", "  return html.replace(/<[^>]*>/g, '')"],
  ['src/wrap.js', '    if (line && line.length + word.length > width) {', '    if (line && line.length + 1 + word.length > width) {'],
  ['src/escape-regexp.js', "  return str.replace(/[.*+?^${}()[\\]]/g, '\\\\$&');", "  return str.replace(/[\\\\^$.*+?()[\\]{}|]/g, '\\\\$&');"],
  ['src/initials.js', '    .split(/\\s+/)', '    .split(/[\\s-]+/)\n    .filter(Boolean)'],
];

const COLLKIT_FIXES: Fix[] = [
  ['src/chunk.js', '  for (let i = 0; i + size <= list.length; i += size)', '  for (let i = 0; i < list.length; i += size)'],
  ['src/group-by.js', '    groups[group] = [item];', '    (groups[group] ??= []).push(item);'],
  ['src/uniq-by.js', '  for (const item of list) seen.set(key(item), item);', '  for (const item of list) {\n    const k = key(item);\n    if (!seen.has(k)) seen.set(k, item);\n  }'],
  ['src/zip.js', '  const length = Math.max(a.length, b.length);', '  const length = Math.min(a.length, b.length);'],
  ['src/flatten.js', '    if (Array.isArray(item)) out.push(...flatten(item, depth - 1));', '    if (Array.isArray(item) && depth > 0) out.push(...flatten(item, depth - 1));'],
  ['src/partition.js', '  list.forEach((item) => (test(item) ? pass : fail).push(item));', '  list.forEach((item, index) => (test(item, index) ? pass : fail).push(item));'],
  ['src/range.js', '  for (let i = start; i < end; i += step) out.push(i);', '  for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);'],
  [
    'src/sort-by.js',
    "  const [first] = keys;\n  const desc = first.startsWith('-');\n  const name = desc ? first.slice(1) : first;\n  return [...list].sort((a, b) => (desc ? -1 : 1) * compareValues(a[name], b[name]));",
    "  const order = keys.map((key) => (key.startsWith('-') ? { name: key.slice(1), dir: -1 } : { name: key, dir: 1 }));\n  return [...list].sort((a, b) => {\n    for (const { name, dir } of order) {\n      const c = compareValues(a[name], b[name]);\n      if (c !== 0) return dir * c;\n    }\n    return 0;\n  });",
  ],
  ['src/pick.js', '  for (const key of keys) out[key] = obj[key];', '  for (const key of keys) if (Object.hasOwn(obj, key)) out[key] = obj[key];'],
  ['src/sum-by.js', '  return list.reduce((total, item) => total + value(item));', '  return list.reduce((total, item) => total + value(item), 0);'],
  ['src/count-by.js', '  for (const item of list) counts[key(item)]++;', '  for (const item of list) {\n    const k = key(item);\n    counts[k] = (counts[k] ?? 0) + 1;\n  }'],
  ['src/intersection.js', '  return a.filter((value) => other.has(value));', '  return [...new Set(a)].filter((value) => other.has(value));'],
];

/** Formcheck's API change: [rule file, the old `return …;` text, code, params expression or null]. */
const FORMCHECK_ERRORS: [file: string, oldReturn: string, code: string, params: string | null][] = [
  ['required', "return 'is required';", 'required', null],
  ['email', "return 'must contain exactly one @ with a name before it';", 'email.at', null],
  ['email', "return 'must have a domain such as example.com';", 'email.domain', null],
  ['length', 'return `must be at least ${min} characters`;', 'length.min', '{ min }'],
  ['length', 'return `must be at most ${max} characters`;', 'length.max', '{ max }'],
  ['number', "return 'must be a number';", 'number.nan', null],
  ['number', 'return `must be ${min} or more`;', 'number.min', '{ min }'],
  ['number', 'return `must be ${max} or less`;', 'number.max', '{ max }'],
  ['phone', "return 'may only contain digits, spaces, dashes, dots, parentheses and a leading +';", 'phone.chars', null],
  ['phone', "return 'must have between 7 and 15 digits';", 'phone.digits', null],
  ['zip', "return 'must look like 12345 or 12345-6789';", 'zip.format', null],
  ['zip', "return 'is not a real ZIP code';", 'zip.reserved', null],
  ['url', "return 'must be a full URL such as https://example.com';", 'url.format', null],
  ['url', "return 'must start with http:// or https://';", 'url.protocol', null],
  ['date', "return 'must be a date written YYYY-MM-DD';", 'date.format', null],
  ['date', "return 'is not a real date';", 'date.invalid', null],
  ['date', 'return `must be ${notBefore} or later`;', 'date.past', '{ notBefore }'],
  ['password', "return 'must be at least 10 characters';", 'password.short', null],
  ['password', "return 'must contain a letter';", 'password.letter', null],
  ['password', "return 'must contain a digit';", 'password.digit', null],
  ['username', "return 'may only contain lower-case letters, digits and _';", 'username.chars', null],
  ['username', "return 'must not start with a digit';", 'username.start', null],
  ['username', "return 'is reserved';", 'username.reserved', null],
  ['color', "return 'must be a hex colour such as #1a2b3c';", 'color.format', null],
  ['card', "return 'must be 12 to 19 digits';", 'card.format', null],
  ['card', "return 'is not a valid card number';", 'card.checksum', null],
];

function formcheckGolden(): ToolInvocation[] {
  const steps: ToolInvocation[] = [read('README.md'), list('src')];
  let current = '';
  for (const [rule, oldReturn, code, params] of FORMCHECK_ERRORS) {
    const file = `src/rules/${rule}.js`;
    if (file !== current) steps.push(read(file));
    current = file;
    const message = oldReturn.slice('return '.length, -1);
    steps.push(edit(file, oldReturn, `return { code: '${code}', message: ${message}${params ? `, params: ${params}` : ''} };`));
  }
  steps.push(
    read('src/index.js'),
    edit(
      'src/index.js',
      '  return { valid: Object.keys(errors).length === 0, errors };',
      '  const messages = Object.fromEntries(Object.entries(errors).map(([field, error]) => [field, error.message]));\n  return { valid: Object.keys(errors).length === 0, errors, messages };',
    ),
    run(),
    submit('every rule returns { code, message, params? }; validateForm adds messages for the old UI'),
  );
  return steps;
}

const codeTable = FORMCHECK_ERRORS.map(([rule, oldReturn, code, params]) => {
  const message = oldReturn
    .slice('return '.length, -1)
    .replace(/^['`]|['`]$/g, '')
    .replace(/\$\{(\w+)\}/g, '<$1>');
  return `| ${rule} | ${message} | \`${code}\` | ${params ? `\`${params.replace(/[{} ]/g, '')}\`` : '–'} |`;
}).join('\n');

export function manyFileTasks(): Task[] {
  return [
    codingTask({
      slug: 'strkit-twelve-fixes',
      instruction:
        'The strkit test suite fails: every one of the twelve helper modules in `src/` has a bug (one failing test each in `test/strkit.test.js`). Please fix the library so that every module does what the comment at its top promises — more cases than the visible tests will be checked. Do not change the tests.',
      difficulty: 'hard',
      labels: ['bugfix', 'multi-file', 'long-horizon', 'strings'],
      project: 'strkit',
      hidden: ['strkit/strkit.test.mjs', 'strkit/visible.test.mjs'],
      editable: ['src/**'],
      golden: [run(), ...readThenEdit(STRKIT_FIXES), run(), submit('fixed all twelve helpers to match their documented contracts')],
      maxTurns: 100,
    }),
    codingTask({
      slug: 'collkit-bug-reports',
      instruction: [
        'Users filed these reports against collkit (the visible tests still pass). Please fix them all; each helper documents its contract in the comment at the top of its module.',
        '1. `chunk([1, 2, 3, 4, 5], 2)` loses the 5.',
        '2. `groupBy` returns only one item per group.',
        '3. `uniqBy` keeps the last item with a key instead of the first.',
        '4. `zip` of lists with different lengths has `undefined` in it.',
        '5. `flatten(list)` flattens everything, ignoring the depth.',
        '6. `partition`\'s test never receives the index.',
        '7. `range(5, 0, -2)` returns `[]`.',
        '8. `sortBy(people, "last", "-age")` ignores everything after the first key.',
        '9. `pick({ a: 1 }, ["a", "z"])` has a `z` key.',
        '10. `sumBy` of an empty list throws, and the first item is added without `value()`.',
        '11. `countBy` returns `NaN` counts.',
        '12. `intersection` repeats values that appear twice in the first list.',
      ].join('\n'),
      difficulty: 'hard',
      labels: ['bugfix', 'multi-file', 'long-horizon', 'collections'],
      project: 'collkit',
      hidden: ['collkit/collkit.test.mjs', 'collkit/visible.test.mjs'],
      editable: ['src/**'],
      golden: [list('src'), ...readThenEdit(COLLKIT_FIXES), run(), submit('fixed the twelve reported helpers')],
      maxTurns: 100,
    }),
    codingTask({
      slug: 'formcheck-error-codes',
      instruction: [
        'The frontend needs machine-readable validation errors. Please change every rule in `src/rules/` to return an error OBJECT instead of a message string: `{ code, message }`, plus `params` for the errors whose message includes a bound. Keep each message text exactly as it is now; valid values still return null.',
        '`params` holds the bound named in the table, e.g. `length(\'ab\', { min: 3 })` returns `{ code: \'length.min\', message: \'must be at least 3 characters\', params: { min: 3 } }`.',
        '`validateForm` keeps returning `{ valid, errors }` with the error objects, and also returns `messages`: the same fields mapped to just the message text (the old UI reads that).',
        '',
        '| rule | message | code | params |',
        '|---|---|---|---|',
        codeTable,
      ].join('\n'),
      difficulty: 'hard',
      labels: ['feature', 'refactor', 'multi-file', 'long-horizon', 'api-change'],
      project: 'formcheck',
      hidden: ['formcheck/codes.test.mjs', 'formcheck/visible.test.mjs'],
      editable: ['src/**', 'README.md'],
      golden: formcheckGolden(),
      maxTurns: 120,
    }),
  ];
}
