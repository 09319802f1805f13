import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { InfraError, type Environment, type Task } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { loadSuite } from './grader/suite.ts';
import { coding, CODING_SANDBOX_MESSAGE } from './index.ts';

const { bwrap } = await sandboxAvailability();
const skip = bwrap.available ? false : 'bwrap unavailable';
const signal = new AbortController().signal;
const tasks = coding.tasks();
const byId = (id: string): Task => {
  const task = tasks.find((t) => t.id === id);
  assert.ok(task, `no task ${id}`);
  return task;
};
const hiddenRefs = (task: Task): string[] => {
  const check = (task.verifier.checks as { check: string; files?: string[] }[]).find((c) => c.check === 'hidden_tests');
  return check?.files ?? [];
};

describe('coding task catalogue', () => {
  it('has at least 22 tasks with unique coding/<slug> ids and coding tags', async () => {
    assert.ok(tasks.length >= 22, `${tasks.length} tasks`);
    assert.equal(new Set(tasks.map((t) => t.id)).size, tasks.length);
    for (const task of tasks) {
      assert.match(task.id, /^coding\/[a-z0-9-]+$/);
      assert.equal(task.env, 'coding');
      assert.equal(task.tags.domain, 'coding');
      assert.equal(task.golden.steps.at(-1)?.tool, 'submit', task.id);
      for (const ref of hiddenRefs(task)) assert.ok((await loadSuite(ref)).cases.length > 0, `${task.id}: ${ref}`);
    }
  });

  it('has long-horizon tasks: several with 10+ golden steps and at least 3 with 20+', () => {
    const steps = tasks.map((t) => t.golden.steps.length);
    assert.ok(steps.filter((n) => n >= 10).length >= 5, `10+: ${steps.filter((n) => n >= 10).length}`);
    assert.ok(steps.filter((n) => n >= 20).length >= 3, `20+: ${steps.filter((n) => n >= 20).length}`);
  });

  it('builds at least 6 tasks on installed npm packages, recording name, version and license', () => {
    const require = createRequire(import.meta.url);
    const realWorld = tasks.filter((t) => t.tags.labels.includes('real-world'));
    assert.ok(realWorld.length >= 6, `${realWorld.length} real-world tasks`);
    for (const task of realWorld) {
      const source = (task.metadata as { source: { package: string; version: string; license: string; files: string[] } }).source;
      const installed = require(`${source.package}/package.json`) as { version: string };
      assert.equal(source.version, installed.version, task.id);
      assert.equal(source.license, 'MIT');
      const files = (task.initialState as { files: Record<string, string> }).files;
      assert.ok(Object.keys(files).some((f) => /^licen[sc]e/i.test(f)), `${task.id} carries the license`);
      assert.ok(files['index.js'] && files['package.json'], task.id);
    }
  });
});

describe('coding without a process sandbox', () => {
  it('refuses the virtual sandbox with a clear sandbox InfraError', async () => {
    const env = instantiate(coding, { sandbox: 'virtual' });
    await assert.rejects(env.reset(byId('coding/inventory-pagination'), { seed: 1 }), (error: unknown) => {
      assert.ok(error instanceof InfraError);
      assert.equal(error.source, 'sandbox');
      assert.equal(error.message, CODING_SANDBOX_MESSAGE);
      return true;
    });
    await env.close();
  });

  it('selfCheck says it needs bwrap instead of pretending', async () => {
    assert.deepEqual(await coding.selfCheck?.(byId('coding/inventory-pagination'), { seed: 1, sandbox: 'virtual' }), [
      'coding tasks need the bwrap sandbox: hidden tests cannot run in the virtual shell',
    ]);
  });
});

describe('coding verifiers', { skip }, () => {
  const call = async (env: Environment, tool: string, args: Record<string, unknown>) => {
    const out = await env.call(tool, args, { signal });
    assert.equal(out.ok, true, out.ok ? '' : out.error);
    return out.ok ? out.content : '';
  };
  const open = async (id: string): Promise<Environment> => {
    const env = instantiate(coding, { sandbox: 'bwrap' });
    await env.reset(byId(id), { seed: 1 });
    return env;
  };
  const golden = async (env: Environment, id: string) => {
    for (const step of byId(id).golden.steps) await call(env, step.tool, step.arguments);
  };
  const failed = async (env: Environment) => (await env.verify({ answer: null })).checks.filter((c) => !c.passed).map((c) => c.name);

  it('fails a lazy fix that deletes the visible test', async () => {
    const env = await open('coding/inventory-pagination');
    await call(env, 'run_command', { command: 'rm test/inventory.test.js' });
    const outcome = await env.verify({ answer: null });
    assert.equal(outcome.passed, false);
    assert.match(outcome.checks[1]?.detail ?? '', /test\/inventory\.test\.js was removed/);
    await env.close();
  });

  it('fails when the tests are rewritten, even alongside a correct fix', async () => {
    const env = await open('coding/inventory-pagination');
    await call(env, 'write_file', { path: 'test/inventory.test.js', content: "import { test } from 'node:test';\ntest('ok', () => {});\n" });
    assert.deepEqual(await failed(env), ['hidden tests pass', 'tests and other files untouched']);
    await golden(env, 'coding/inventory-pagination');
    assert.deepEqual(await failed(env), ['tests and other files untouched']);
    await env.close();
  });

  it('fails a change to package.json (e.g. a test script that always passes)', async () => {
    const env = await open('coding/lru-cache-recency');
    await golden(env, 'coding/lru-cache-recency');
    await call(env, 'edit_file', { path: 'package.json', oldText: '"node --test"', newText: '"true"' });
    assert.deepEqual(await failed(env), ['tests and other files untouched']);
    await env.close();
  });

  describe('hidden tests stay hidden', () => {
    const id = 'coding/todo-app-issues';
    const ref = 'todo-app/issues.test.mjs';
    let env: Environment;
    before(async () => {
      env = await open(id);
    });
    after(() => env.close());

    it('are nowhere the agent can look during the episode', async () => {
      const title = (await loadSuite(ref)).cases[0]?.name ?? '';
      assert.doesNotMatch(await call(env, 'list_files', {}), /issues\.test/);
      assert.match(await call(env, 'search_code', { pattern: title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') }), /^no matches/);
      const find = await call(env, 'run_command', { command: 'find / \\( -path /proc -o -path /sys \\) -prune -o -name "issues.test*" -print 2>/dev/null; echo done' });
      assert.equal(find, 'exit code 0\nstdout:\ndone\n');
      const grep = await call(env, 'run_command', { command: `grep -rlF ${JSON.stringify(title)} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=dev 2>/dev/null; echo done` });
      assert.equal(grep, 'exit code 0\nstdout:\ndone\n');
    });

    it('leave nothing behind in the work dir after judging', async () => {
      const listing = await call(env, 'list_files', {});
      await env.verify({ answer: null });
      assert.equal(await call(env, 'list_files', {}), listing);
    });
  });
});

// The full per-task validation (hidden tests fail before, pass after the golden steps; golden
// passes; doing nothing and the destructive actions fail) on a representative subset: a one-file
// fix, a 20+ step task and a real-world package. src/envs/builtins.test.ts covers every task.
describe('coding tasks validate (subset)', { skip, concurrency: 3 }, () => {
  for (const id of ['coding/inventory-pagination', 'coding/collkit-bug-reports', 'coding/content-type-params']) {
    it(`${id}: selfCheck and direct check pass`, async () => {
      const task = byId(id);
      assert.deepEqual(await coding.selfCheck?.(task, { seed: 1, sandbox: 'bwrap' }), []);
      const result = await checkTaskDirectly(coding, task, { sandbox: 'bwrap' });
      assert.deepEqual(result.problems, []);
    });
  }
});
