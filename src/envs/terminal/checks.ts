// Verifier checks over the sandbox's final files. Outcome checks read the sandbox itself (full
// contents); the invariant compares the snapshots taken right after reset and at the end.
// What each check trusts, and why the agent cannot turn that trust into a pass, is written beside
// it (docs/design/environments.md, "Grader isolation", has the whole picture).
import { z } from 'zod';
import { InfraError, stableStringify, type Sandbox } from '../../core/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { ranInSandbox } from '../sandbox-failure.ts';
import { filesUnchangedExcept, snapshotEntries } from '../sandbox-files.ts';
import { firstDifference, normalisePath, normaliseText, valueAt } from './files.ts';

const name = z.string().optional();
const normalisation = {
  normalizeWhitespace: z.boolean().default(false),
  sortLines: z.boolean().default(false),
  ignoreBlankLines: z.boolean().default(false),
  ignoreCase: z.boolean().default(false),
};

function need(sandbox: Sandbox | undefined): Sandbox {
  if (!sandbox) throw new Error('terminal checks need a sandbox (the environment declares sandbox: true)');
  return sandbox;
}

/** The file's text, or null when it is missing or the path is not a readable file inside the work dir. */
async function read(sandbox: Sandbox | undefined, path: string): Promise<string | null> {
  try {
    return await need(sandbox).readFile(normalisePath(path));
  } catch {
    return null;
  }
}

const fail = (detail: string): CheckOutput => ({ passed: false, detail });

function compile(pattern: string, ignoreCase: boolean): RegExp {
  return new RegExp(pattern, ignoreCase ? 'mi' : 'm');
}

/** Numbers written with thousands separators (1,234.50) read as plain ones (1234.50). */
function plainNumbers(text: string): string {
  return text.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
}

/** Numbers standing on their own: not parts of dates, times, paths, versions or identifiers. */
const STANDALONE_NUMBER = /(?<![\w.:/-])-?\d+(?:\.\d+)?(?![\w:/-]|\.\d)/g;

function standaloneNumbers(text: string): string[] {
  return [...plainNumbers(text).matchAll(STANDALONE_NUMBER)].map((m) => m[0]);
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Verification commands run in the agent's sandbox, so nothing the agent left may configure the
 * tools they call: HOME points at the command's own fresh /tmp (no ~/.jq, ~/.gitconfig, user
 * site-packages), Python ignores the current directory and user site, and git reads no global or
 * system config.
 */
const VERIFY_ENV: Record<string, string> = {
  HOME: '/tmp',
  XDG_CONFIG_HOME: '/tmp/.config',
  PYTHONNOUSERSITE: '1',
  PYTHONSAFEPATH: '1',
  PYTHONDONTWRITEBYTECODE: '1',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export const terminalChecks: Record<string, CheckDefinition> = {
  // Trusts the answer to commit to one number: an answer listing many candidates ("0 1 2 … 100")
  // would otherwise contain the right one by construction.
  answer_number: defineCheck({
    kind: 'outcome',
    description:
      'The final answer states `value` as a number of its own (not part of a longer number), with `decimals` places when given, and states no other number (numbers the instruction itself mentions, and parts of dates, times, paths or names, do not count).',
    params: z.object({ value: z.number(), decimals: z.number().int().min(0).max(6).optional(), name }),
    run: ({ value, decimals }, { answer, task }) => {
      if (answer === null) return fail('no final answer');
      const text = plainNumbers(answer);
      const wanted = decimals === undefined ? String(value) : value.toFixed(decimals);
      const token = new RegExp(`(?<![\\d.])${wanted.replace('.', '\\.')}(?![\\d]|\\.\\d)`);
      if (!token.test(text)) return fail(`answer does not state ${wanted}`);
      const given = new Set(standaloneNumbers(task.instruction).map(Number));
      const others = [...new Set(standaloneNumbers(text))].filter((n) => Number(n) !== value && !given.has(Number(n)));
      return others.length === 0 ? { passed: true } : fail(`answer states ${wanted} but also ${others.slice(0, 5).join(', ')}${others.length > 5 ? ` (+${others.length - 5} more)` : ''}: give one number`);
    },
  }),

  file_exists: defineCheck({
    kind: 'outcome',
    description: 'A file exists at `path`.',
    params: z.object({ path: z.string().min(1), name }),
    run: async ({ path }, { sandbox }) => ((await read(sandbox, path)) === null ? fail(`${path} does not exist`) : { passed: true }),
  }),

  // Snapshots list regular files and symlinks only, so an empty directory, fifo or socket left
  // under the name would pass unseen: the sandbox itself is asked whether anything is there. It
  // starts in / so nothing done to the work dir keeps it from running, and an answer it cannot
  // give (the agent locked its own work dir) fails the check rather than passing it.
  file_absent: defineCheck({
    kind: 'outcome',
    description: 'Nothing exists at `path`: no file, symlink, directory, fifo or socket.',
    params: z.object({ path: z.string().min(1), name }),
    run: async ({ path }, { final, sandbox, signal }) => {
      const box = need(sandbox);
      const rel = normalisePath(path);
      if (snapshotEntries(final).has(rel)) return fail(`${path} still exists`);
      const target = `${box.workdir}/${rel}`;
      const probe = ranInSandbox(await box.exec(`LC_ALL=C ls -d -- ${shellQuote(target)} 2>&1; echo "rc=$?"`, { timeoutMs: 10_000, signal, cwd: '/' }), 'verifier');
      const lines = probe.stdout.trimEnd().split('\n');
      const rc = /^rc=(\d+)$/.exec(lines.at(-1) ?? '')?.[1];
      if (rc === undefined) throw new InfraError('sandbox', `file_absent: could not run ls in the sandbox (exit ${probe.exitCode}): ${probe.stderr.slice(0, 200)}`, { retryable: true });
      if (rc === '0') return fail(`${path} still exists (not as a regular file)`);
      const message = lines.slice(0, -1).join(' ');
      return /No such file or directory|Not a directory/.test(message) ? { passed: true } : fail(`cannot tell whether ${path} is gone: ${message.slice(0, 160)}`);
    },
  }),

  file_contains: defineCheck({
    kind: 'outcome',
    description: 'The file contains every string in `all`, matches every regex in `regex` (multiline), and contains none of `none` / `noneRegex`.',
    params: z.object({
      path: z.string().min(1),
      all: z.array(z.string()).default([]),
      regex: z.array(z.string()).default([]),
      none: z.array(z.string()).default([]),
      noneRegex: z.array(z.string()).default([]),
      ignoreCase: z.boolean().default(false),
      name,
    }),
    run: async ({ path, all, regex, none, noneRegex, ignoreCase }, { sandbox }) => {
      const text = await read(sandbox, path);
      if (text === null) return fail(`${path} does not exist`);
      const hay = ignoreCase ? text.toLowerCase() : text;
      const has = (s: string) => hay.includes(ignoreCase ? s.toLowerCase() : s);
      const problems = [
        ...all.filter((s) => !has(s)).map((s) => `lacks ${JSON.stringify(s)}`),
        ...regex.filter((r) => !compile(r, ignoreCase).test(text)).map((r) => `does not match /${r}/`),
        ...none.filter(has).map((s) => `still contains ${JSON.stringify(s)}`),
        ...noneRegex.filter((r) => compile(r, ignoreCase).test(text)).map((r) => `matches /${r}/`),
      ];
      return problems.length === 0 ? { passed: true } : fail(`${path}: ${problems.slice(0, 5).join('; ')}`);
    },
  }),

  file_equals: defineCheck({
    kind: 'outcome',
    description: 'The file equals `content` (a trailing newline never matters; optionally normalised whitespace, sorted lines, no blank lines, any case).',
    params: z.object({ path: z.string().min(1), content: z.string(), ...normalisation, name }),
    run: async ({ path, content, ...how }, { sandbox }) => {
      const text = await read(sandbox, path);
      if (text === null) return fail(`${path} does not exist`);
      const actual = normaliseText(text, how);
      const expected = normaliseText(content, how);
      return actual === expected ? { passed: true } : fail(`${path}: ${firstDifference(actual, expected)}`);
    },
  }),

  file_matches_initial: defineCheck({
    kind: 'outcome',
    description: 'The file at `path` has exactly the bytes the file at `initialPath` (default: the same path) had at the start (moves and copies).',
    params: z.object({ path: z.string().min(1), initialPath: z.string().optional(), name }),
    run: ({ path, initialPath }, { initial, final }) => {
      const before = snapshotEntries(initial).get(normalisePath(initialPath ?? path));
      const after = snapshotEntries(final).get(normalisePath(path));
      if (!before) return fail(`${initialPath ?? path} did not exist at the start`);
      if (!after) return fail(`${path} does not exist`);
      return after.sha256 === before.sha256 ? { passed: true } : fail(`${path} differs from the original ${initialPath ?? path}`);
    },
  }),

  json_file_matches: defineCheck({
    kind: 'outcome',
    description: 'The file parses as JSON and has the given values at dotted paths (`a.b.0.c`); `absent` paths must not exist.',
    params: z.object({
      path: z.string().min(1),
      values: z.record(z.string(), z.unknown()).default({}),
      absent: z.array(z.string()).default([]),
      name,
    }),
    run: async ({ path, values, absent }, { sandbox }) => {
      const text = await read(sandbox, path);
      if (text === null) return fail(`${path} does not exist`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        return fail(`${path} is not valid JSON: ${(error as Error).message}`);
      }
      const problems: string[] = [];
      for (const [at, expected] of Object.entries(values)) {
        const found = valueAt(parsed, at);
        if (!found.found) problems.push(`${at} is missing`);
        else if (stableStringify(found.value) !== stableStringify(expected)) {
          problems.push(`${at} is ${JSON.stringify(found.value)}, expected ${JSON.stringify(expected)}`);
        }
      }
      for (const at of absent) if (valueAt(parsed, at).found) problems.push(`${at} should be absent`);
      return problems.length === 0 ? { passed: true } : fail(`${path}: ${problems.slice(0, 5).join('; ')}`);
    },
  }),

  files_unchanged_except: defineCheck({
    kind: 'invariant',
    description: 'Every file not matched by `except` keeps its exact bytes, and no new file appears unless it matches `except` or `allowNew` (globs).',
    params: z.object({ except: z.array(z.string()).default([]), allowNew: z.array(z.string()).default([]), name }),
    // Globs may be written as paths (`./out`, `/work/out`), like every other terminal path.
    run: ({ except, allowNew }, { initial, final }) =>
      filesUnchangedExcept(initial, final, { except: except.map((g) => normalisePath(g)), allowNew: allowNew.map((g) => normalisePath(g)) }),
  }),

  command_output_equals: defineCheck({
    kind: 'outcome',
    description: 'A verification command run in the sandbox after the episode prints `stdout` (optionally normalised) and/or lines containing `contains`, and exits with `exitCode`.',
    params: z.object({
      command: z.string().min(1),
      stdout: z.string().optional(),
      contains: z.array(z.string()).default([]),
      exitCode: z.number().int().default(0),
      timeoutMs: z.number().int().positive().default(20_000),
      ...normalisation,
      name,
    }),
    run: async ({ command, stdout, contains, exitCode, timeoutMs, ...how }, { sandbox, signal }) => {
      const result = ranInSandbox(await need(sandbox).exec(command, { timeoutMs, signal, env: VERIFY_ENV }), 'verifier');
      if (result.timedOut) return fail(`\`${command}\` timed out`);
      if (result.exitCode !== exitCode) return fail(`\`${command}\` exited ${result.exitCode}, expected ${exitCode}: ${result.stderr.slice(0, 200)}`);
      const missing = contains.filter((s) => !result.stdout.includes(s));
      if (missing.length > 0) return fail(`\`${command}\` output lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
      if (stdout === undefined) return { passed: true };
      const actual = normaliseText(result.stdout, how);
      const expected = normaliseText(stdout, how);
      return actual === expected ? { passed: true } : fail(`\`${command}\`: ${firstDifference(actual, expected)}`);
    },
  }),
};
