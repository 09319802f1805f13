// Exporting Gauntlet tasks as Harbor task folders, and the round trip back: export the built-in
// terminal tasks, import the folders as Harbor tasks, and run them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Task } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { instantiate } from '../instance.ts';
import { notes } from '../notes/index.ts';
import { terminal, terminalTasks } from '../terminal/index.ts';
import { ANSWER_FILE, exportHarborTasks, terminalStartingFiles } from './export-harbor.ts';
import { readTaskConfig } from './harbor-config.ts';
import { harbor } from './harbor-env.ts';
import { GRADER_CHECKS } from './harbor-grader.ts';
import { importTaskDirectory, sandboxHasPython } from './harbor.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-export-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const signal = new AbortController().signal;
const tasks = terminalTasks();
const out = join(scratch, 'harbor');
const exported = exportHarborTasks({ tasks, dir: out });
/** Checks and options the built-in tasks do not use, so the grader is compared on them too. */
const extras = Task.parse({
  id: 'terminal/grader-extras',
  env: 'terminal',
  instruction: 'State the totals.',
  initialState: { files: { 'data.json': '{"a": {"b": [1, 2.0, true]}, "c": null}\n', 'notes.txt': 'Alpha  beta\n\nGamma\n', 'sub/x.txt': 'X\n' } },
  verifier: {
    checks: [
      { check: 'file_exists', path: '/work/notes.txt' },
      { check: 'file_exists', path: 'missing.txt' },
      { check: 'file_exists', path: 'sub' },
      { check: 'json_file_matches', path: 'data.json', values: { 'a.b.1': 2, 'a.b.2': true, c: null }, absent: ['a.d', 'a.b.5'] },
      { check: 'json_file_matches', path: 'data.json', values: { 'a.b.2': 1 } },
      { check: 'file_equals', path: 'notes.txt', content: 'gamma\nalpha beta', normalizeWhitespace: true, sortLines: true, ignoreBlankLines: true, ignoreCase: true },
      { check: 'file_contains', path: './notes.txt', regex: ['^gamma$'], noneRegex: ['delta'], ignoreCase: true },
      { check: 'answer_number', value: 1234.5, decimals: 2 },
      { check: 'answer_number', value: 75 },
      { check: 'command_output_equals', command: 'wc -l < notes.txt', stdout: '3' },
    ],
  },
  golden: { steps: [{ tool: 'submit', arguments: { answer: 'The total is 1,234.50 (see report-2026-03.csv).' } }] },
  tags: { domain: 'terminal', difficulty: 'easy' },
});
const exportedExtras = exportHarborTasks({ tasks: [extras], dir: join(scratch, 'extras') });
const folderOf = (id: string) => [...exported.exported, ...exportedExtras.exported].find((e) => e.id === id)!.folder;

let skipReason: string | null = null;
before(async () => {
  const { bwrap } = await sandboxAvailability();
  if (!bwrap.available) skipReason = `bwrap is not available here: ${bwrap.reason ?? 'unknown'}`;
  else if (!sandboxHasPython()) skipReason = 'python3 is not on the sandbox PATH';
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('exporting the built-in terminal tasks as Harbor task folders', () => {
  it('exports every one of them', () => {
    assert.deepEqual(exported.refused, []);
    assert.deepEqual(exported.exported.map((e) => e.id), tasks.map((t) => t.id));
  });

  it('writes the Harbor layout: a task.toml Harbor readers accept, the instruction, an image with the starting files, solve.sh and test.sh', () => {
    const task = tasks.find((t) => t.id === 'terminal/clean-build-tmp')!;
    const folder = folderOf(task.id);
    assert.equal(folder, join(out, 'clean-build-tmp'));
    const config = readTaskConfig(folder);
    assert.deepEqual(
      { name: config.name, difficulty: config.difficulty, category: config.category, agent: config.agentTimeoutSec, schema: config.schemaVersion, labels: config.labels },
      { name: 'terminal/clean-build-tmp', difficulty: 'easy', category: 'terminal', agent: 300, schema: '1.1', labels: ['files', 'cleanup', 'find'] },
    );
    assert.equal(readFileSync(join(folder, 'instruction.md'), 'utf8'), `${task.instruction}\n`);
    assert.match(readFileSync(join(folder, 'environment/Dockerfile'), 'utf8'), /\nWORKDIR \/work\nCOPY files\/ \/work\/\n$/);
    for (const [path, content] of Object.entries(terminalStartingFiles(task, 1))) assert.equal(readFileSync(join(folder, 'environment/files', path), 'utf8'), content);
    for (const script of ['solution/solve.sh', 'tests/test.sh']) assert.equal(statSync(join(folder, script)).mode & 0o111, 0o111, `${script} is executable`);
    const spec = JSON.parse(readFileSync(join(folder, 'tests/gauntlet_task.json'), 'utf8')) as { checks: unknown[]; initial: Record<string, string>; answer_file: string | null };
    assert.deepEqual(spec.checks, task.verifier.checks);
    assert.equal(spec.answer_file, null);
    assert.equal(spec.initial['build/app.js.tmp'], sha256('partial write\n'));
  });

  it('a task answered in words tells the Harbor agent where to write the answer, and its solution writes it there', () => {
    const folder = folderOf('terminal/count-error-lines');
    assert.match(readFileSync(join(folder, 'instruction.md'), 'utf8'), /write your final answer to \/work\/answer\.txt\.\n$/);
    assert.match(readFileSync(join(folder, 'solution/solve.sh'), 'utf8'), new RegExp(`printf '%s' .* > /work/${ANSWER_FILE}\\n$`));
  });

  it('the starting files are exactly those of a native episode with the same seed, seeded background files included', async () => {
    for (const id of ['terminal/clean-build-tmp', 'terminal/top-clients-1']) {
      const task = tasks.find((t) => t.id === id)!;
      const env = instantiate(terminal, { sandbox: 'virtual' });
      try {
        await env.reset(task, { seed: 1 });
        const native = ((await env.snapshot()).files as { path: string; sha256: string }[]).map((f) => [f.path, f.sha256]);
        const mine = Object.entries(terminalStartingFiles(task, 1)).map(([path, content]) => [path, sha256(content)]).sort(([a], [b]) => (a! < b! ? -1 : 1));
        assert.deepEqual(mine, native);
      } finally {
        await env.close();
      }
    }
  });

  it('refuses, with reasons, what has no Harbor form', () => {
    const base = tasks.find((t) => t.id === 'terminal/unique-emails')!;
    const withTable = Task.parse({ ...base, id: 'terminal/with-table', verifier: { checks: [{ check: 'table_unchanged', table: 'commands' }] } });
    const withAnswerFile = Task.parse({
      ...base,
      id: 'terminal/answer-collision',
      initialState: { files: { [ANSWER_FILE]: 'mine\n' } },
      verifier: { checks: [{ check: 'answer_contains', values: ['x'] }] },
    });
    const result = exportHarborTasks({ tasks: [notes.tasks()[0]!, withTable, withAnswerFile], dir: join(scratch, 'refused') });
    assert.deepEqual(result.exported, []);
    assert.deepEqual(result.refused.map((r) => [r.id, r.reasons]), [
      [notes.tasks()[0]!.id, ['environment "notes" has no Harbor form (exportable: terminal; a Harbor agent works through a shell on files)', ...result.refused[0]!.reasons.slice(1)]],
      ['terminal/with-table', ['check "table_unchanged" has no grader outside Gauntlet']],
      ['terminal/answer-collision', [`the task has its own ${ANSWER_FILE}, where the exported task's agent would write its answer`]],
    ]);
  });
});

describe('round trip: the exported folders import back as Harbor tasks and run', { concurrency: 2 }, () => {
  const back = importTaskDirectory(out);

  it('every folder imports, under the id it was exported with', () => {
    assert.deepEqual(back.rejected, []);
    assert.deepEqual(back.imported.map((i) => i.task.id).sort(), tasks.map((t) => t.id).sort());
    for (const { task } of back.imported) {
      const original = tasks.find((t) => t.id === task.id)!;
      assert.equal(task.env, 'harbor');
      assert.deepEqual(task.tags, original.tags);
      assert.equal(task.limits.deadlineMs, original.limits.deadlineMs);
      assert.ok(task.instruction.startsWith(original.instruction.trim()), task.id);
    }
  });

  for (const { task } of back.imported) {
    it(`${task.id}: doing nothing fails and the oracle passes`, async (t) => {
      if (skipReason) return t.skip(skipReason);
      // Grading leaves the work dir as it found it, so one episode serves both verdicts.
      const env = instantiate(harbor, { sandbox: 'bwrap' });
      try {
        await env.reset(task, { seed: 1 });
        assert.equal((await env.verify({ answer: null })).passed, false);
        for (const step of task.golden.steps) assert.ok((await env.call(step.tool, step.arguments, { signal })).ok);
        const outcome = await env.verify({ answer: null });
        assert.equal(outcome.passed, true, outcome.checks[0]?.detail);
        assert.equal(outcome.checks[0]!.detail, 'reward.json: reward=1, score=1');
      } finally {
        await env.close();
      }
    });
  }
});

interface Verdicts {
  flags: boolean[];
  state: string;
}

/** The Python grader's per-check verdicts on a copy of a work dir. */
function graded(task: Task, files: Record<string, string>, answer: string | null, state: string): Verdicts {
  const root = join(scratch, 'states', task.id.replace(/\W/g, '-'), state);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  if (answer !== null) writeFileSync(join(root, ANSWER_FILE), answer);
  const tests = join(folderOf(task.id), 'tests');
  const logs = join(root, '..', `${state}-logs`);
  execFileSync('python3', [join(tests, 'gauntlet_grade.py'), join(tests, 'gauntlet_task.json'), logs, root], { stdio: 'pipe' });
  const results = JSON.parse(readFileSync(join(logs, 'gauntlet_checks.json'), 'utf8')) as { passed: boolean }[];
  return { flags: results.map((r) => r.passed), state };
}

/** Tasks that between them use every check kind the grader implements, with and without seeded files. */
const PARITY = [
  'terminal/bump-package-version',
  'terminal/replace-deprecated-call',
  'terminal/fix-yaml-key-typo',
  'terminal/find-debug-config',
  'terminal/clean-build-tmp',
  'terminal/rename-jpeg-extensions',
  'terminal/normalize-line-endings',
  'terminal/count-error-lines',
  'terminal/top-clients-1',
  'terminal/port-assignments-20',
];

describe("the exported grader gives the TypeScript verifier's verdict on every check", { concurrency: 2 }, () => {
  it('the tasks compared use every check the grader implements', () => {
    const compared = [...tasks.filter((t) => PARITY.includes(t.id)), extras];
    const kinds = new Set(compared.flatMap((t) => (t.verifier.checks as { check: string }[]).map((c) => c.check)));
    assert.deepEqual([...kinds].sort(), [...GRADER_CHECKS].sort());
  });

  for (const task of [...tasks.filter((t) => PARITY.includes(t.id)), extras]) {
    it(`${task.id}: at the start, after the golden solution, and with everything deleted`, async (t) => {
      if (skipReason) return t.skip(skipReason);
      const env = instantiate(terminal, { sandbox: 'bwrap' });
      try {
        await env.reset(task, { seed: 1 });
        const start = terminalStartingFiles(task, 1);
        const atStart = (await env.verify({ answer: null })).checks.map((c) => c.passed);
        assert.deepEqual(graded(task, start, null, 'start'), { flags: atStart, state: 'start' });

        let answer = task.golden.answer ?? null;
        for (const step of task.golden.steps) {
          const result = await env.call(step.tool, step.arguments, { signal });
          if (result.ok && result.answer !== undefined) answer = result.answer;
        }
        const final: Record<string, string> = {};
        for (const file of (await env.snapshot()).files as { path: string }[]) {
          const read = await env.call('read_file', { path: file.path }, { signal });
          assert.ok(read.ok);
          final[file.path] = read.content;
        }
        const afterGolden = (await env.verify({ answer })).checks.map((c) => c.passed);
        // The extras mean some checks to fail; every built-in task's golden solution passes them all.
        if (task !== extras) assert.ok(afterGolden.every(Boolean));
        else assert.deepEqual(afterGolden, [true, false, false, true, false, true, true, true, false, true]);
        assert.deepEqual(graded(task, final, answer, 'golden'), { flags: afterGolden, state: 'golden' });

        await env.call('run_command', { command: 'rm -rf /work/* /work/.[!.]* 2>/dev/null; true' }, { signal });
        const emptied = (await env.verify({ answer: null })).checks.map((c) => c.passed);
        assert.deepEqual(graded(task, {}, null, 'empty'), { flags: emptied, state: 'empty' });
      } finally {
        await env.close();
      }
    });
  }
});
