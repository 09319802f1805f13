// Tasks on the published sources of real npm packages (read from node_modules when the tasks are
// built, with their license files): a realistic bug is injected and reported the way a user would,
// or a small feature is requested. Hidden tests follow each package's documented behaviour.
import type { Difficulty, Task, ToolInvocation } from '../../../core/index.ts';
import { packageSource, replaceOnce } from '../files.ts';
import { codingTask, edit, read, run, search, submit } from './build.ts';

interface RealWorldSpec {
  slug: string;
  /** The npm package and the files copied from it (package.json always comes along). */
  pkg: string;
  files: string[];
  /** Changes made to `index.js` before the agent sees it: [published text, injected text]. */
  inject: [string, string][];
  change: 'bug' | 'feature';
  /** What was done to the published code, for people reading the task. */
  note: string;
  instruction: string;
  difficulty: Difficulty;
  labels: string[];
  /** The hidden suite under hidden/rw-<pkg>/ (its visible.test.mjs, a port of the repo's tests, is judged too). */
  hidden: string;
  /** Golden steps between reading index.js and running the tests. */
  fix: ToolInvocation[];
}

/** A bug fix that restores the published code, one edit per injected change. */
const restore = (inject: [string, string][]): ToolInvocation[] => inject.map(([published, injected]) => edit('index.js', injected, published));

function realWorldTask(spec: RealWorldSpec): Task {
  const source = packageSource(spec.pkg, spec.files);
  let main = source.files['index.js'];
  if (main === undefined) throw new Error(`coding/${spec.slug}: ${spec.pkg} has no index.js`);
  for (const change of spec.inject) main = replaceOnce(main, change, `coding/${spec.slug} (${spec.pkg}@${source.version})`);
  const files = { ...source.files, 'index.js': main };
  return codingTask({
    slug: spec.slug,
    instruction: spec.instruction,
    difficulty: spec.difficulty,
    labels: ['real-world', spec.change === 'bug' ? 'bugfix' : 'feature', ...spec.labels],
    project: `rw-${spec.pkg}`,
    files,
    hidden: [spec.hidden, `rw-${spec.pkg}/visible.test.mjs`],
    editable: ['index.js', ...spec.files.filter((f) => /readme/i.test(f))],
    golden: [read('index.js'), ...spec.fix, run(), submit(`${spec.change === 'bug' ? 'fixed' : 'implemented'}: ${spec.note}`)],
    metadata: {
      source: { package: spec.pkg, version: source.version, license: source.license, files: ['package.json', ...spec.files] },
      change: spec.change,
      note: spec.note,
    },
  });
}

const MS_INJECT: [string, string][] = [['/^(-?(?:\\d+)?\\.?\\d+) *(', '/^(-?\\d+) *(']];
const ESCAPE_INJECT: [string, string][] = [["var matchHtmlRegExp = /[\"'&<>]/;", 'var matchHtmlRegExp = /["&<>]/;']];
const CONTENT_TYPE_INJECT: [string, string][] = [
  ['      key = match[1].toLowerCase()', '      key = match[1]'],
  ['var QESC_REGEXP = /\\\\([\\u000b\\u0020-\\u00ff])/g', 'var QESC_REGEXP = /\\\\([\\u000b\\u0020-\\u00ff])/'],
];
const COOKIE_INJECT: [string, string][] = [
  ['    // only assign once\n    if (!__hasOwnProperty.call(obj, key)) {', '    if (key) {'],
  [
    '      var valEndIdx = endIndex(str, endIdx, valStartIdx);\n\n      if (str.charCodeAt(valStartIdx) === 0x22 /* " */ && str.charCodeAt(valEndIdx - 1) === 0x22 /* " */) {\n        valStartIdx++;\n        valEndIdx--;\n      }\n',
    '      var valEndIdx = endIndex(str, endIdx, valStartIdx);\n',
  ],
];
const RANGE_INJECT: [string, string][] = [
  ['      start = size - end\n', '      start = size - end - 1\n'],
  ['    if (range.start > current.end + 1) {', '    if (range.start > current.end) {'],
];
const VARY_INJECT: [string, string][] = [['  var vals = parse(header.toLowerCase())', '  var vals = parse(header)']];
const MINIMIST_INJECT: [string, string][] = [
  ["\t\t\t\tvalue = value !== 'false';", '\t\t\t\tvalue = value !== false;'],
  ['\t\t\tsetArg(key, false, arg);', "\t\t\tsetArg(key, 'false', arg);"],
];

export function realWorldTasks(): Task[] {
  return [
    realWorldTask({
      slug: 'ms-decimal-durations',
      pkg: 'ms',
      files: ['index.js', 'license.md', 'readme.md'],
      inject: MS_INJECT,
      change: 'bug',
      note: 'the duration regex only accepts whole numbers',
      instruction:
        'We vendor the `ms` package (see package.json). Since the last update, `ms("1.5h")` and `ms(".5s")` return undefined instead of 5400000 and 500, and `ms("-1.5h")` fails too; whole numbers like `ms("2h")` still work. The readme documents `ms("2.5 hrs")` as valid. Please fix index.js.',
      difficulty: 'easy',
      labels: ['parsing', 'regex'],
      hidden: 'rw-ms/ms.test.mjs',
      fix: restore(MS_INJECT),
    }),
    realWorldTask({
      slug: 'bytes-iec-units',
      pkg: 'bytes',
      files: ['index.js', 'LICENSE', 'Readme.md'],
      inject: [],
      change: 'feature',
      note: 'parse accepts the IEC suffixes KiB, MiB, GiB, TiB and PiB',
      instruction:
        'Feature request for our vendored copy of the `bytes` package: config files written by other tools use IEC suffixes, so `bytes.parse` (and `bytes(string)`) should accept `KiB`, `MiB`, `GiB`, `TiB` and `PiB`, case-insensitively and with optional space (`"1.5 MiB"` → 1572864), meaning the same powers of 1024 as `KB`…`PB`. Today `bytes.parse("1.5 MiB")` returns 1. Existing units, formatting and the null results for invalid input must not change.',
      difficulty: 'easy',
      labels: ['parsing', 'units'],
      hidden: 'rw-bytes/iec.test.mjs',
      fix: [
        search('parseRegExp'),
        edit('index.js', 'var parseRegExp = /^((-|\\+)?(\\d+(?:\\.\\d+)?)) *(kb|mb|gb|tb|pb)$/i;', 'var parseRegExp = /^((-|\\+)?(\\d+(?:\\.\\d+)?)) *(kb|mb|gb|tb|pb|kib|mib|gib|tib|pib)$/i;'),
        edit('index.js', '    unit = results[4].toLowerCase();', "    // IEC names (KiB...) are the same powers of 1024 as kb...\n    unit = results[4].toLowerCase().replace('i', '');"),
      ],
    }),
    realWorldTask({
      slug: 'escape-html-apostrophe',
      pkg: 'escape-html',
      files: ['index.js', 'LICENSE', 'Readme.md'],
      inject: ESCAPE_INJECT,
      change: 'bug',
      note: "the fast-path regex lacks the apostrophe, so strings whose only special character is ' are returned unescaped",
      instruction:
        "Security report against our vendored `escape-html`: `escapeHtml(\"it's\")` returns `it's` unchanged, which breaks out of our single-quoted HTML attributes. Oddly, `escapeHtml(\"<it's>\")` does escape the apostrophe as `&#39;`. Please fix index.js so every `'` is escaped, whatever else the string contains.",
      difficulty: 'easy',
      labels: ['security', 'html'],
      hidden: 'rw-escape-html/escape.test.mjs',
      fix: restore(ESCAPE_INJECT),
    }),
    realWorldTask({
      slug: 'content-type-params',
      pkg: 'content-type',
      files: ['index.js', 'LICENSE', 'README.md'],
      inject: CONTENT_TYPE_INJECT,
      change: 'bug',
      note: 'parameter names keep their case, and only the first quoted-pair escape is removed',
      instruction:
        'Two bugs in our vendored `content-type` parser. (1) `parse("text/html; Charset=UTF-8").parameters.charset` is undefined: parameter names are case-insensitive and must come out lower-case (values keep their case). (2) In quoted values only the first backslash escape is removed: `parse(\'text/plain; x="a\\\\"b\\\\"c"\').parameters.x` should be `a"b"c`. Please fix index.js.',
      difficulty: 'medium',
      labels: ['http', 'parsing', 'regex'],
      hidden: 'rw-content-type/parse.test.mjs',
      fix: restore(CONTENT_TYPE_INJECT),
    }),
    realWorldTask({
      slug: 'cookie-parse-quotes-duplicates',
      pkg: 'cookie',
      files: ['index.js', 'LICENSE', 'README.md'],
      inject: COOKIE_INJECT,
      change: 'bug',
      note: 'parse lost the surrounding-quote removal and the first-wins rule for duplicate names',
      instruction:
        'After someone "simplified" `parse` in our vendored `cookie` package, two things broke: `cookie.parse(\'foo="bar"\')` gives `{ foo: \'"bar"\' }` instead of `{ foo: "bar" }` (a value wrapped in double quotes must lose them), and when a name appears twice (`foo=1; foo=2`, which browsers send with the most specific path first) the LAST value wins, but the first must. Please fix index.js without breaking decoding or whitespace trimming.',
      difficulty: 'medium',
      labels: ['http', 'parsing'],
      hidden: 'rw-cookie/parse.test.mjs',
      fix: restore(COOKIE_INJECT),
    }),
    realWorldTask({
      slug: 'range-parser-suffix-combine',
      pkg: 'range-parser',
      files: ['index.js', 'LICENSE', 'README.md'],
      inject: RANGE_INJECT,
      change: 'bug',
      note: 'suffix ranges start one byte early, and combine does not merge adjacent ranges',
      instruction:
        'Video seeking broke with our vendored `range-parser`: for a 1000-byte file, `Range: bytes=-400` (the last 400 bytes) yields `{ start: 599, end: 999 }` — one byte too many — and `bytes=-200` on a 200-byte file is reported unsatisfiable. Also, with `{ combine: true }`, adjacent ranges such as `bytes=0-4,5-9` are not merged into `0-9` as the README says. Please fix index.js.',
      difficulty: 'medium',
      labels: ['http', 'off-by-one'],
      hidden: 'rw-range-parser/range.test.mjs',
      fix: restore(RANGE_INJECT),
    }),
    realWorldTask({
      slug: 'vary-case-insensitive',
      pkg: 'vary',
      files: ['index.js', 'LICENSE', 'README.md'],
      inject: VARY_INJECT,
      change: 'bug',
      note: 'existing header fields are compared case-sensitively',
      instruction:
        'Our CDN logs show `Vary: Accept-Encoding, accept-encoding` from responses that went through our vendored `vary`: `vary.append("Accept", "accept")` returns `"Accept, accept"`. Header field names are case-insensitive, so a field already in the header must not be added again in any case. Please fix index.js.',
      difficulty: 'easy',
      labels: ['http'],
      hidden: 'rw-vary/vary.test.mjs',
      fix: restore(VARY_INJECT),
    }),
    realWorldTask({
      slug: 'minimist-false-values',
      pkg: 'minimist',
      files: ['index.js', 'LICENSE', 'README.md'],
      inject: MINIMIST_INJECT,
      change: 'bug',
      note: "--no-flag sets the string 'false', and --flag=false is true for boolean options",
      instruction:
        "Our CLI (using a vendored `minimist`) cannot turn things off. `--no-color` gives `argv.color === 'false'` — a string, which is truthy — instead of the boolean `false`, and with `{ boolean: ['debug'] }`, `--debug=false` gives `true`. `--debug=true` and other values must still give true, and `--mode=false` for a non-boolean option stays the string 'false'. Please fix index.js.",
      difficulty: 'medium',
      labels: ['cli', 'parsing'],
      hidden: 'rw-minimist/false.test.mjs',
      fix: restore(MINIMIST_INJECT),
    }),
  ];
}
