// Repos written for this environment where the change is a feature, or bugs spread over files.
import type { Task } from '../../../core/index.ts';
import { solutionFile } from '../files.ts';
import { codingTask, edit, list, read, run, search, submit, write } from './build.ts';

export function featureTasks(): Task[] {
  return [
    codingTask({
      slug: 'csv-quoted-fields',
      instruction:
        'Our CSV importer chokes on real exports: a field like `"Smith, Jane"` is split in two, `""` inside quotes is not turned into `"`, quoted fields containing line breaks break the record apart, and Windows line ends (CRLF) leave `\\r` at the end of the last field. `stringify` already quotes correctly, so `parse(stringify(rows))` should give the rows back. Please make `parse` follow RFC 4180 as the README describes (the `delimiter` and `header` options must keep working).',
      difficulty: 'medium',
      labels: ['feature', 'parsing'],
      project: 'csv-tools',
      hidden: ['csv-tools/csv.test.mjs', 'csv-tools/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('README.md'),
        read('src/parse.js'),
        read('src/stringify.js'),
        write('src/parse.js', solutionFile('csv-quoted-fields', 'parse.js')),
        run(),
        submit('parse is now a character scanner that handles quotes, doubled quotes, embedded line breaks and CRLF'),
      ],
    }),
    codingTask({
      slug: 'date-range-time-zones',
      instruction:
        'The booking service now sends intervals with time zones, e.g. `2024-03-01T10:00+02:00/2024-03-01T12:00+02:00`, and `parseRange` throws "invalid date-time". Please support a zone suffix on each side: `Z`, or an offset `+HH:MM` / `-HH:MM` / `+HHMM` (hours up to 23, minutes up to 59; anything else is invalid). Times without a zone stay UTC. When the end is only a time (`…/12:30`), it takes the start\'s date and, unless it has its own zone, the start\'s zone. Dates are the instants the offsets describe (`10:00+02:00` is 08:00 UTC).',
      difficulty: 'medium',
      labels: ['feature', 'dates', 'parsing'],
      project: 'date-range',
      hidden: ['date-range/zones.test.mjs', 'date-range/visible.test.mjs'],
      editable: ['src/**', 'README.md'],
      golden: [
        list(),
        read('src/datetime.js'),
        read('src/range.js'),
        edit(
          'src/datetime.js',
          'const DATE_TIME = /^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2})(?::(\\d{2}))?$/;',
          'const DATE_TIME = /^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2})(?::(\\d{2}))?(Z|[+-]\\d{2}:?\\d{2})?$/;\n\n/** Minutes east of UTC for a zone suffix (Z, +HH:MM, -HHMM); undefined means UTC. */\nfunction offsetMinutes(zone, text) {\n  if (!zone || zone === \'Z\') return 0;\n  const hours = Number(zone.slice(1, 3));\n  const minutes = Number(zone.slice(-2));\n  if (hours > 23 || minutes > 59) throw new Error(`invalid date-time: ${JSON.stringify(text)}`);\n  return (zone[0] === \'-\' ? -1 : 1) * (hours * 60 + minutes);\n}',
        ),
        edit('src/datetime.js', '  return date;\n}', '  return new Date(ms - offsetMinutes(match[7], text) * 60_000);\n}'),
        edit(
          'src/range.js',
          'const TIME_ONLY = /^\\d{2}:\\d{2}(?::\\d{2})?$/;',
          'const TIME_ONLY = /^\\d{2}:\\d{2}(?::\\d{2})?(Z|[+-]\\d{2}:?\\d{2})?$/;\nconst ZONE = /(Z|[+-]\\d{2}:?\\d{2})$/;',
        ),
        edit(
          'src/range.js',
          '  const endFull = TIME_ONLY.test(endText) ? `${startText.slice(0, 10)}T${endText}` : endText;',
          "  let endFull = endText;\n  const timeOnly = TIME_ONLY.exec(endText);\n  if (timeOnly) {\n    // A bare time takes the start's date, and its zone unless it names one.\n    const zone = timeOnly[1] ? '' : (ZONE.exec(startText)?.[1] ?? '');\n    endFull = `${startText.slice(0, 10)}T${endText}${zone}`;\n  }",
        ),
        run(),
        submit('date-times accept Z and ±HH[:]MM offsets; time-only ends inherit the start zone'),
      ],
    }),
    codingTask({
      slug: 'cli-args-forms',
      instruction: [
        'Please extend `parseArgs` in `src/args.js` with the argument forms people keep asking for:',
        '1. `--name=value` for string options (the value may be empty or contain `=`). `--flag=...` for a boolean option throws `Error("option --flag does not take a value")`.',
        '2. Grouped short options: `-va` sets every boolean in the group; only the LAST letter may be a string option, and it takes the next argument (`-vo build`). A string option earlier in a group throws `Error("option -o needs a value")`; an unknown letter throws `Error("unknown option -z")`.',
        '3. `--` ends option parsing: every later argument is positional.',
        '4. `--no-<flag>` sets a boolean option to false (overriding its default). For anything that is not a boolean option it is an unknown option (`unknown option --no-out`).',
        '5. A lone `-` is a positional argument.',
        'Existing behaviour and messages stay as they are.',
      ].join('\n'),
      difficulty: 'medium',
      labels: ['feature', 'cli', 'parsing'],
      project: 'cli-args',
      hidden: ['cli-args/args.test.mjs', 'cli-args/visible.test.mjs'],
      editable: ['src/**', 'README.md'],
      golden: [
        read('README.md'),
        read('src/args.js'),
        read('test/args.test.js'),
        write('src/args.js', solutionFile('cli-args-forms', 'args.js')),
        run(),
        submit('parseArgs supports --name=value, grouped short flags, --, --no-flag and a lone -'),
      ],
    }),
    codingTask({
      slug: 'template-paths-and-raw',
      instruction:
        'Three things for our tiny template engine: (1) placeholders should accept dotted paths, `{{ user.address.city }}`, where numeric steps index arrays (`{{items.1.title}}`) and only own properties count (so `{{constructor}}` is empty); (2) a triple-brace placeholder `{{{ html }}}` outputs the value WITHOUT HTML escaping (also with dotted paths), while `{{ }}` keeps escaping; (3) a missing value, a missing step in a path, `null` and `undefined` all render as an empty string (today they print "undefined"), but `0`, `false` and `""` render as themselves. An unclosed placeholder must still throw a SyntaxError.',
      difficulty: 'medium',
      labels: ['feature', 'templates'],
      project: 'tiny-template',
      hidden: ['tiny-template/features.test.mjs', 'tiny-template/visible.test.mjs'],
      editable: ['src/**', 'README.md'],
      golden: [
        list(),
        read('README.md'),
        read('src/index.js'),
        read('src/lexer.js'),
        read('src/render.js'),
        read('src/escape.js'),
        edit(
          'src/lexer.js',
          "    const close = template.indexOf(CLOSE, open + OPEN.length);\n    if (close === -1) throw new SyntaxError(`unclosed placeholder at ${open}`);\n    tokens.push({ type: 'var', name: template.slice(open + OPEN.length, close).trim() });\n    pos = close + CLOSE.length;",
          "    // {{{ name }}} is a raw placeholder: the value is written without escaping.\n    const raw = template.startsWith('{{{', open);\n    const closing = raw ? '}}}' : CLOSE;\n    const start = open + (raw ? 3 : OPEN.length);\n    const close = template.indexOf(closing, start);\n    if (close === -1) throw new SyntaxError(`unclosed placeholder at ${open}`);\n    tokens.push({ type: 'var', name: template.slice(start, close).trim(), raw });\n    pos = close + closing.length;",
        ),
        edit(
          'src/render.js',
          'function lookup(data, name) {\n  return data[name];\n}',
          '/** Follows a dotted path through own properties; undefined when a step is missing. */\nfunction lookup(data, name) {\n  let value = data;\n  for (const key of name.split(\'.\')) {\n    if (value === null || value === undefined || !Object.hasOwn(Object(value), key)) return undefined;\n    value = value[key];\n  }\n  return value;\n}',
        ),
        edit(
          'src/render.js',
          '    else out += escapeHtml(lookup(data, token.name));',
          "    else {\n      const value = lookup(data, token.name);\n      const text = value === undefined || value === null ? '' : String(value);\n      out += token.raw ? text : escapeHtml(text);\n    }",
        ),
        run(),
        submit('dotted own-property paths, {{{raw}}} placeholders, and empty output for missing values'),
      ],
    }),
    codingTask({
      slug: 'semver-precedence',
      instruction:
        'Our version sorting is wrong in release tooling: `1.10.0` sorts before `1.9.0`, `1.0.0-rc.1` counts as newer than `1.0.0`, and `1.0.0-beta.11` sorts before `1.0.0-beta.2`. Please make `compare` (and so `sort` and `max`) follow the precedence rules in the README (semver 2.0.0 section 11).',
      difficulty: 'medium',
      labels: ['bugfix', 'versions'],
      project: 'semver-lite',
      hidden: ['semver-lite/semver.test.mjs', 'semver-lite/visible.test.mjs'],
      editable: ['src/**'],
      golden: [
        read('README.md'),
        read('src/compare.js'),
        read('src/parse.js'),
        edit('src/parse.js', '    major: match[1],\n    minor: match[2],\n    patch: match[3],', '    major: Number(match[1]),\n    minor: Number(match[2]),\n    patch: Number(match[3]),'),
        edit(
          'src/compare.js',
          'function comparePrerelease(a, b) {\n  const length = Math.max(a.length, b.length);\n  for (let i = 0; i < length; i++) {\n    const x = a[i];\n    const y = b[i];\n    if (x === undefined) return -1;\n    if (y === undefined) return 1;\n    if (x !== y) return x < y ? -1 : 1;\n  }\n  return 0;\n}',
          "const NUMERIC = /^\\d+$/;\n\nfunction compareIdentifiers(x, y) {\n  const xNum = NUMERIC.test(x);\n  const yNum = NUMERIC.test(y);\n  if (xNum && yNum) return sign(Number(x) - Number(y));\n  // Numeric identifiers always have lower precedence than alphanumeric ones.\n  if (xNum !== yNum) return xNum ? -1 : 1;\n  return x < y ? -1 : x > y ? 1 : 0;\n}\n\nfunction comparePrerelease(a, b) {\n  // A version without a pre-release ranks above one with a pre-release.\n  if (a.length === 0 || b.length === 0) return sign(b.length - a.length);\n  const length = Math.max(a.length, b.length);\n  for (let i = 0; i < length; i++) {\n    const x = a[i];\n    const y = b[i];\n    if (x === undefined) return -1;\n    if (y === undefined) return 1;\n    const order = compareIdentifiers(x, y);\n    if (order !== 0) return order;\n  }\n  return 0;\n}",
        ),
        run(),
        submit('numeric main parts, releases above pre-releases, numeric pre-release identifiers compared as numbers'),
      ],
    }),
    codingTask({
      slug: 'retry-options',
      instruction: [
        'Please add three options to `retry` in `src/retry.js` and use one of them in `getJson`:',
        '- `maxDelayMs` (default: no cap): no single wait is longer than this.',
        '- `shouldRetry(error, attempt)` (default: always true): when it returns false, the error is thrown at once without waiting or retrying. `attempt` is the attempt that just failed (1 for the first).',
        '- `onRetry(error, attempt, delayMs)`: called just before each wait, with the wait about to happen. It is not called when no retry follows.',
        '`getJson` must stop retrying on HTTP 4xx responses (an `HttpError` with a status below 500) and keep retrying server errors and network failures. Keep the README table up to date.',
      ].join('\n'),
      difficulty: 'medium',
      labels: ['feature', 'async'],
      project: 'retry',
      hidden: ['retry/retry.test.mjs', 'retry/visible.test.mjs'],
      editable: ['src/**', 'README.md'],
      golden: [
        read('src/retry.js'),
        read('src/http.js'),
        edit(
          'src/retry.js',
          'export async function retry(fn, { retries = 3, baseDelayMs = 100, sleep = defaultSleep } = {}) {\n  let attempt = 0;\n  while (true) {\n    attempt += 1;\n    try {\n      return await fn(attempt);\n    } catch (error) {\n      if (attempt > retries) throw error;\n      await sleep(baseDelayMs * 2 ** (attempt - 1));\n    }\n  }\n}',
          'export async function retry(fn, options = {}) {\n  const { retries = 3, baseDelayMs = 100, maxDelayMs = Infinity, sleep = defaultSleep, shouldRetry = () => true, onRetry } = options;\n  let attempt = 0;\n  while (true) {\n    attempt += 1;\n    try {\n      return await fn(attempt);\n    } catch (error) {\n      if (attempt > retries || !shouldRetry(error, attempt)) throw error;\n      const delayMs = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));\n      onRetry?.(error, attempt, delayMs);\n      await sleep(delayMs);\n    }\n  }\n}',
        ),
        edit(
          'src/http.js',
          '    return response.json();\n  }, options);',
          '    return response.json();\n  }, {\n    // Client errors will not fix themselves: only server errors and network failures are retried.\n    shouldRetry: (error) => !(error instanceof HttpError) || error.status >= 500,\n    ...options,\n  });',
        ),
        edit(
          'README.md',
          '| `sleep` | setTimeout-based | `sleep(ms)` returning a promise (tests pass a fake) |',
          '| `sleep` | setTimeout-based | `sleep(ms)` returning a promise (tests pass a fake) |\n| `maxDelayMs` | none | the longest single wait |\n| `shouldRetry` | always | `shouldRetry(error, attempt)`: false throws at once |\n| `onRetry` | none | `onRetry(error, attempt, delayMs)` before each wait |',
        ),
        run(),
        submit('retry gains maxDelayMs, shouldRetry and onRetry; getJson does not retry 4xx'),
      ],
    }),
    codingTask({
      slug: 'todo-app-issues',
      instruction:
        'Please fix the four open issues in ISSUES.md of the todo app (#41, #44, #47, #52). Each one is in a different module.',
      difficulty: 'hard',
      labels: ['bugfix', 'multi-file', 'issue-tracker'],
      project: 'todo-app',
      hidden: ['todo-app/issues.test.mjs', 'todo-app/visible.test.mjs'],
      editable: ['src/**', 'ISSUES.md'],
      golden: [
        read('ISSUES.md'),
        list('src'),
        read('src/filters.js'),
        edit('src/filters.js', '  return todos.filter((t) => t.due !== null && daysUntil(t.due, today) < 0);', '  return open(todos).filter((t) => t.due !== null && daysUntil(t.due, today) < 0);'),
        read('src/store.js'),
        edit('src/store.js', '    if (todo) todo.done = true;', '    if (!todo) throw new Error(`no todo ${id}`);\n    todo.done = true;'),
        read('src/dates.js'),
        edit('src/dates.js', '  return Math.round(dayNumber(due) - dayNumber(today)) + 1;', '  return Math.round(dayNumber(due) - dayNumber(today));'),
        read('src/format.js'),
        search('daysUntil', 'src'),
        edit('src/format.js', "const MARKERS = { high: '', normal: '', low: '' };", "const MARKERS = { high: '!', normal: '', low: '' };"),
        run(),
        submit('overdue skips done todos, complete throws for unknown ids, daysUntil lost its +1, high priority gets !'),
      ],
    }),
  ];
}
