// Hidden tests: written into the sandbox only when the episode is judged, run with `node --test`,
// and removed again. The agent never sees them, and cannot pre-empt them: the folder is wiped
// before they are written, so any file the agent placed there under the same name is replaced.
import { posix } from 'node:path';
import type { ExecResult, Sandbox } from '../../core/index.ts';
import { hiddenTestFile } from './files.ts';

/** A fresh folder one level below the repo root, so hidden tests import `../src/x.js` like test/ files do. */
export const HIDDEN_RUN_DIR = '.gauntlet-hidden-tests';

export interface TestRunOptions {
  /** References under hidden/ (`folder/name.test.mjs`). */
  hidden: readonly string[];
  /** The repo's own test files to run alongside (their failures count too). */
  visible: readonly string[];
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface TestRunResult {
  passed: boolean;
  /** Names of hidden tests that did not pass, and other failures (a file that crashed). */
  failures: string[];
  /** Hidden test names that never reported at all (the process exited early). */
  missing: string[];
  total: number;
  exitCode: number;
  timedOut: boolean;
  /** The tail of the runner's output, for humans reading a failed check. */
  outputTail: string;
}

/** The names of every `test('…')` / `it('…')` in a hidden test file: each must report ok. */
export function declaredTestNames(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/\b(?:it|test)\(\s*(['"`])((?:(?!\1)[^\\])+)\1/g)) names.push(match[2] as string);
  return names;
}

interface TapLine {
  ok: boolean;
  name: string;
  /** False for suites and file wrappers: their children are reported (indented deeper) just before them. */
  leaf: boolean;
  /** First line of the YAML `error:` block that follows a failure. */
  error?: string;
}

/** The YAML block after a failure: the error's first line, plus expected/actual when they fit on one line. */
function failureSummary(block: string[]): string | undefined {
  let error: string | undefined;
  const values: string[] = [];
  for (let j = 0; j < block.length; j++) {
    const line = block[j] as string;
    if (/^\s*\.\.\.$/.test(line)) break;
    const inline = /^\s*error: (['"]?)(.*)\1$/.exec(line);
    if (/^\s*error: [|>]-?$/.test(line)) error = block.slice(j + 1).find((l) => l.trim() !== '')?.trim();
    else if (inline && error === undefined) error = inline[2];
    const value = /^\s*(expected|actual): (.+)$/.exec(line);
    if (value && values.length < 2 && !/^[|>]-?$/.test(value[2] as string)) values.push(`${value[1]} ${value[2]}`);
  }
  if (error === undefined) return undefined;
  return values.length > 0 ? `${error.replace(/:$/, '')}; ${values.join(', ')}` : error;
}

const unescapeTap = (name: string) => name.replace(/\\#/g, '#').replace(/\\\\/g, '\\');

/** `ok N - name` / `not ok N - name` lines at any nesting depth, with the first error line of failures. */
export function parseTap(output: string): TapLine[] {
  const out: TapLine[] = [];
  const lines = output.split('\n');
  let previousIndent = -1;
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)(not )?ok \d+ - (.*?)(?: # (?:SKIP|TODO)\b.*)?$/.exec(lines[i] as string);
    if (!match) continue;
    const indent = (match[1] as string).length;
    const entry: TapLine = { ok: !match[2], name: unescapeTap(match[3] as string), leaf: previousIndent <= indent };
    previousIndent = indent;
    if (!entry.ok) entry.error = failureSummary(lines.slice(i + 1, i + 60));
    out.push(entry);
  }
  return out;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Copies the hidden tests in, runs them with the visible ones, cleans up, and judges the output. */
export async function runHiddenTests(sandbox: Sandbox, options: TestRunOptions): Promise<TestRunResult> {
  const exec = (command: string, timeoutMs: number) => sandbox.exec(command, { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
  await exec(`rm -rf -- ${HIDDEN_RUN_DIR}`, 10_000);
  const expected = new Set<string>();
  const paths: string[] = [];
  for (const ref of options.hidden) {
    const source = hiddenTestFile(ref);
    for (const name of declaredTestNames(source)) expected.add(name);
    const path = `${HIDDEN_RUN_DIR}/${posix.basename(ref)}`;
    await sandbox.writeFile(path, source);
    paths.push(path);
  }
  const files = [...paths, ...options.visible].map(shellQuote).join(' ');
  let result: ExecResult;
  try {
    result = await exec(`node --test --test-reporter=tap --test-timeout=10000 --test-force-exit ${files}`, options.timeoutMs ?? 60_000);
  } finally {
    await exec(`rm -rf -- ${HIDDEN_RUN_DIR}`, 10_000);
  }
  const tap = parseTap(result.stdout);
  const okNames = new Set(tap.filter((t) => t.ok).map((t) => t.name));
  const failures: string[] = [];
  // A suite fails when a test inside it does; the test itself is the useful name.
  for (const t of tap) if (!t.ok && t.leaf) failures.push(t.error ? `${t.name} (${t.error.slice(0, 160)})` : t.name);
  const missing = [...expected].filter((name) => !okNames.has(name) && !tap.some((t) => !t.ok && t.name === name));
  const passed = expected.size > 0 && result.exitCode === 0 && !result.timedOut && failures.length === 0 && missing.length === 0;
  const output = `${result.stdout}\n${result.stderr}`.trim();
  return {
    passed,
    failures,
    missing,
    total: expected.size,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    outputTail: output.slice(-600),
  };
}

/** One line for a check's detail: which tests failed, or why the run as a whole did not pass. */
export function describeRun(run: TestRunResult): string {
  if (run.passed) return `all ${run.total} hidden tests pass`;
  if (run.timedOut) return 'the test run timed out';
  const parts: string[] = [];
  if (run.failures.length > 0) parts.push(`failing: ${run.failures.slice(0, 8).join('; ')}${run.failures.length > 8 ? ` (+${run.failures.length - 8} more)` : ''}`);
  if (run.missing.length > 0) parts.push(`never reported: ${run.missing.slice(0, 5).join('; ')}${run.missing.length > 5 ? ` (+${run.missing.length - 5} more)` : ''}`);
  if (parts.length === 0) parts.push(`node --test exited ${run.exitCode}: ${run.outputTail.split('\n').slice(-3).join(' ')}`);
  return parts.join(' | ');
}
