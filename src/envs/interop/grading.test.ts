// Imported tasks run for real: the harbor environment in a bwrap sandbox whose work dir is mounted
// at the task's WORKDIR, the build replayed at reset, the task's own tests grading it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createRng, createSeededClock, DefectError, InfraError, type Sandbox, type Task } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { rowsOf } from '../state.ts';
import { harbor } from './harbor-env.ts';
import { importTaskFolder, sandboxHasPython, type ImportOptions } from './harbor.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/harbor/', import.meta.url));
const SUITE = [
  'tb2/build-steps',
  'tb2/deleted-setup',
  'tb2/sqlite-inventory',
  'tb2/encrypted-note',
  'tb2/path-manifest',
  'tb2/multi-reward',
  'tb2/long-timeouts',
  'tb2/archive-tools',
  'tb1/log-levels',
  'cookbook/recipes/greeting-env',
].map((path) => `suite/${path}`);
const signal = new AbortController().signal;
const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-grading-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let skipReason: string | null = null;
before(async () => {
  const { bwrap } = await sandboxAvailability();
  if (!bwrap.available) skipReason = `bwrap is not available here: ${bwrap.reason ?? 'unknown'}`;
  else if (!sandboxHasPython()) skipReason = 'python3 is not on the sandbox PATH';
});

function load(path: string, options: ImportOptions = {}): Task {
  return importTaskFolder(join(FIXTURES, path), options).task;
}

function folder(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

type Env = ReturnType<typeof instantiate>;

/** Resets the task, lets `act` work in it, then verifies (no golden). */
async function episode<T>(task: Task, act: (env: Env) => Promise<T>) {
  const env = instantiate(harbor, { sandbox: 'bwrap' });
  try {
    await env.reset(task, { seed: 1 });
    const acted = await act(env);
    return { acted, outcome: await env.verify({ answer: null }), snapshot: await env.snapshot() };
  } finally {
    await env.close();
  }
}

async function run(env: Env, command: string): Promise<string> {
  const out = await env.call('run_command', { command }, { signal });
  assert.ok(out.ok, JSON.stringify(out));
  return out.content;
}

describe('the fixture suite, offline in a bwrap sandbox', { concurrency: 2 }, () => {
  for (const path of SUITE) {
    it(`${path}: the oracle passes; doing nothing and the destructive actions fail; same seed, same state`, async (t) => {
      if (skipReason) return t.skip(skipReason);
      const result = await checkTaskDirectly(harbor, load(path), { sandbox: 'bwrap' });
      assert.deepEqual(result.problems, []);
      assert.equal(result.golden.passed, true);
    });
  }
});

describe('what the agent sees', { concurrency: 2 }, () => {
  it("starts in the task's own WORKDIR, with the image's ENV and python as the base image names it", async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { acted } = await episode(load('suite/tb2/build-steps'), async (env) => {
      const listed = await env.call('list_files', { path: '/app' }, { signal });
      const outside = await env.call('list_files', { path: '/etc' }, { signal });
      return { shell: await run(env, 'pwd; echo "dir=$REPORT_DIR"; python -c "print(6 * 7)"; ls /app'), listed, outside };
    });
    assert.match(acted.shell, /^stdout:\n\/app\ndir=\/app\/reports\n42\nreadings\.csv\nreports\nthresholds\.csv\n/m);
    assert.ok(acted.listed.ok && /readings\.csv\n.*thresholds\.csv$/s.test(acted.listed.content), JSON.stringify(acted.listed));
    assert.deepEqual(acted.outside, { ok: false, kind: 'tool_error', error: 'list_files: path "/etc" is outside the work dir /app' });
  });

  it('never sees a file the image deleted, nor the answer it held', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { acted, snapshot } = await episode(load('suite/tb2/deleted-setup'), (env) => run(env, 'ls -a /app /app/vault; grep -rl CLOSING_BALANCE /app /tmp 2>/dev/null; true'));
    assert.ok(!acted.includes('setup_vault'), acted);
    assert.match(acted, /ledger\.txt/);
    assert.deepEqual(
      rowsOf(snapshot, 'build_log').map((r) => [r.at, r.status]),
      [
        ['environment/Dockerfile:4', 'ok'],
        ['environment/Dockerfile:6', 'ok'],
      ],
    );
  });

  it('does not have the tests during the episode', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { acted } = await episode(load('tb1-sales-total'), (env) => run(env, 'grep -rl test_region_total /app /tmp /tests /logs 2>/dev/null; ls -a /app; ls /tests /logs 2>&1'));
    assert.ok(!acted.includes('test_outputs'), acted);
    assert.ok(!acted.includes('.harbor'), acted);
    assert.match(acted, /ls: cannot access '\/tests'/);
  });

  it('a failing build step is logged and the build goes on (the oracle decides whether it mattered)', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const dir = folder('failing-build', {
      'task.toml': 'version = "1.0"\n',
      'instruction.md': 'Create done.txt.',
      'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\nRUN echo half > half.txt && false\nRUN echo built > built.txt\n',
      'solution/solve.sh': 'touch done.txt\n',
      'tests/test.sh': 'test -f /app/done.txt && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    });
    const { acted, snapshot } = await episode(importTaskFolder(dir).task, (env) => run(env, 'cat half.txt built.txt'));
    assert.match(acted, /stdout:\nhalf\nbuilt\n/);
    assert.deepEqual(
      rowsOf(snapshot, 'build_log').map((r) => [r.at, r.status, r.exit_code]),
      [
        ['environment/Dockerfile:3', 'failed', 1],
        ['environment/Dockerfile:4', 'ok', 0],
      ],
    );
  });
});

describe('grading', { concurrency: 2 }, () => {
  it('names the failing tests, and leaves nothing behind', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { outcome, snapshot } = await episode(load('tb2-word-count'), (env) => run(env, 'echo 15 > count.txt'));
    assert.equal(outcome.passed, false);
    assert.match(outcome.checks[0]!.detail ?? '', /^reward\.txt: reward=0 \(short of the pass rule: reward 0 < 1\); failing: test_outputs\.py::test_count_is_right \(AssertionError/);
    assert.ok((snapshot.files as { path: string }[]).every((f) => !f.path.startsWith('.harbor')), 'the hidden test folder is removed after grading');
  });

  it('a reward file the agent planted before grading does not count', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { outcome } = await episode(load('legacy-greeting'), (env) => run(env, 'mkdir -p .harbor/logs/verifier && echo 1 > .harbor/logs/verifier/reward.txt'));
    assert.equal(outcome.passed, false);
    assert.match(outcome.checks[0]!.detail ?? '', /^reward\.txt: reward=0 .*failing: greeting\.txt \(missing or wrong\)/);
  });

  it('every reward.json key becomes a named reward; the pass rule decides', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const partial = "import re\n\ndef slugify(title):\n    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n";
    const write = (env: Env) => env.call('write_file', { path: '/app/slugify.py', content: partial }, { signal });
    const strict = await episode(load('suite/tb2/multi-reward'), write);
    assert.equal(strict.outcome.passed, false);
    assert.match(strict.outcome.checks[0]!.detail ?? '', /^reward\.json: correctness=1, style=0 \(short of the pass rule: style 0 < 1\)/);
    assert.deepEqual(strict.outcome.rewards, { correctness: 1, style: 0 });
    const relaxed = await episode(load('suite/tb2/multi-reward', { passRule: { require: [], min: { style: 0 }, default: 1 } }), write);
    assert.equal(relaxed.outcome.passed, true);
  });

  it("a Harbor test script that writes no reward file, or one that is not a number, is the task's defect, not a score", async (t) => {
    if (skipReason) return t.skip(skipReason);
    const task = (name: string, test: string) =>
      importTaskFolder(
        folder(name, {
          'task.toml': 'version = "1.0"\n',
          'instruction.md': 'Nothing to do.',
          'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\n',
          'solution/solve.sh': 'true\n',
          'tests/test.sh': test,
        }),
      ).task;
    await assert.rejects(
      episode(task('no-reward', 'echo "all good"\n'), async () => {}),
      (e: unknown) => e instanceof DefectError && /wrote no reward file .*Harbor treats that as a verifier error/.test(e.message),
    );
    await assert.rejects(
      episode(task('bad-reward', 'mkdir -p /logs/verifier; echo PASS > /logs/verifier/reward.txt\n'), async () => {}),
      (e: unknown) => e instanceof DefectError && /unusable reward: reward\.txt holds "PASS", not a number/.test(e.message),
    );
  });

  it('the virtual sandbox is an infrastructure error, not a score', async () => {
    const env = instantiate(harbor, { sandbox: 'virtual' });
    try {
      await env.reset(load('legacy-greeting'), { seed: 1 });
      await assert.rejects(env.verify({ answer: null }), (error: unknown) => error instanceof InfraError && error.source === 'sandbox' && /needs a process sandbox/.test(error.message));
    } finally {
      await env.close();
    }
  });
});

describe('the environment refuses a sandbox mounted elsewhere', () => {
  it('is an infrastructure error naming both paths, not a task run at the wrong paths', async () => {
    const db = new Database(':memory:');
    const sandbox = { workdir: '/work' } as Sandbox;
    const ctx = { db, clock: createSeededClock('2026-02-02T09:00:00Z'), ids: { next: (p: string) => p }, rng: createRng('x'), task: load('legacy-greeting'), sandbox, signal };
    await assert.rejects(
      Promise.resolve(harbor.seed(ctx)),
      (e: unknown) => e instanceof InfraError && /needs the work dir mounted at \/srv\/site .*this sandbox mounted it at \/work/.test(e.message),
    );
    db.close();
  });
});
