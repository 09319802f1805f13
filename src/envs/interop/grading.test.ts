// Imported tasks graded for real: bwrap sandbox, python3 from the host, the terminal environment.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InfraError, type Task } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import type { EnvironmentDefinition } from '../define.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { terminal } from '../terminal/index.ts';
import { interopChecks } from './checks.ts';
import { importTaskFolder, sandboxHasPython } from './harbor.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/harbor/', import.meta.url));
const IMPORTABLE = ['tb2-word-count', 'legacy-greeting', 'tb1-sales-total'];
// Until the framework knows harbor_tests, the tests add it to the terminal environment's checks.
const definition: EnvironmentDefinition = { ...terminal, checks: { ...terminal.checks, ...interopChecks } };
const signal = new AbortController().signal;

let skipReason: string | null = null;
before(async () => {
  const { bwrap } = await sandboxAvailability();
  if (!bwrap.available) skipReason = `bwrap is not available here: ${bwrap.reason ?? 'unknown'}`;
  else if (!sandboxHasPython()) skipReason = 'python3 is not on the sandbox PATH';
});

function load(name: string): Task {
  return importTaskFolder(join(FIXTURES, name)).task;
}

/** Verifies the task's starting state after `act` (no golden), returning the harbor_tests result. */
async function gradeAfter(task: Task, act: (env: ReturnType<typeof instantiate>) => Promise<void>) {
  const env = instantiate(definition, { sandbox: 'bwrap' });
  try {
    await env.reset(task, { seed: 1 });
    await act(env);
    const outcome = await env.verify({ answer: null });
    return { outcome, files: (await env.snapshot()).files as { path: string }[] };
  } finally {
    await env.close();
  }
}

describe('grading imported tasks offline in a bwrap sandbox', { concurrency: true }, () => {
  for (const name of IMPORTABLE) {
    it(`${name}: the golden solution passes; doing nothing and the destructive actions fail; same seed same state`, async (t) => {
      if (skipReason) return t.skip(skipReason);
      const result = await checkTaskDirectly(definition, load(name), { sandbox: 'bwrap' });
      assert.deepEqual(result.problems, []);
      assert.equal(result.golden.passed, true);
    });
  }

  it('names the failing tests, runs them with the built-in runner when pytest is missing, and leaves nothing behind', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const task = load('tb2-word-count');
    const { outcome, files } = await gradeAfter(task, async (env) => {
      await env.call('run_command', { command: 'echo 15 > count.txt' }, { signal });
    });
    assert.equal(outcome.passed, false);
    const detail = outcome.checks[0]!.detail ?? '';
    assert.match(detail, /^reward\.txt: 0; failing: test_outputs\.py::test_count_is_right \(AssertionError/);
    assert.ok(!detail.includes('test_count_file_exists'), detail);
    assert.ok(files.every((f) => !f.path.startsWith('.harbor')), 'the hidden test folder is removed after grading');
  });

  it('the tests are not in the sandbox during the episode', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const task = load('tb1-sales-total');
    const env = instantiate(definition, { sandbox: 'bwrap' });
    try {
      await env.reset(task, { seed: 1 });
      const found = await env.call('run_command', { command: 'grep -rl test_region_total /work /tmp /tests /logs 2>/dev/null; ls -a /work; ls /tests /logs 2>&1' }, { signal });
      assert.ok(found.ok);
      assert.ok(!found.content.includes('test_outputs'), found.content);
      assert.ok(!found.content.includes('.harbor'), found.content);
      assert.match(found.content, /ls: cannot access '\/tests'/);
    } finally {
      await env.close();
    }
  });

  it('a reward file the agent planted before grading does not count', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { outcome } = await gradeAfter(load('legacy-greeting'), async (env) => {
      await env.call('run_command', { command: 'mkdir -p .harbor/logs/verifier && echo 1 > .harbor/logs/verifier/reward.txt' }, { signal });
    });
    assert.equal(outcome.passed, false);
    assert.match(outcome.checks[0]!.detail ?? '', /^reward\.txt: 0; failing: greeting\.txt \(missing or wrong\)/);
  });
});

describe('grading where it cannot be done faithfully', () => {
  it('the virtual sandbox is an infrastructure error, not a score', async () => {
    const env = instantiate(definition, { sandbox: 'virtual' });
    try {
      await env.reset(load('legacy-greeting'), { seed: 1 });
      await assert.rejects(env.verify({ answer: null }), (error: unknown) => error instanceof InfraError && error.source === 'sandbox' && /needs the bwrap sandbox/.test(error.message));
    } finally {
      await env.close();
    }
  });
});
