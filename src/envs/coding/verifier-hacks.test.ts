import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Task, ToolInvocation } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { instantiate } from '../instance.ts';
import { loadSuite } from './grader/suite.ts';
import { coding } from './index.ts';
import { KNOWN_CODING_HACKS } from './known-hacks.ts';

const { bwrap } = await sandboxAvailability();
const skip = bwrap.available ? false : 'bwrap unavailable';
const signal = new AbortController().signal;

function task(id: string): Task {
  const found = coding.tasks().find((t) => t.id === id);
  assert.ok(found, `no task ${id}`);
  return found;
}

/** Resets the task, makes the tool calls (each must succeed) and returns the verifier's outcome. */
async function judge(id: string, steps: (golden: ToolInvocation[]) => ToolInvocation[], inspect?: (read: (path: string) => Promise<string>) => Promise<void>) {
  const env = instantiate(coding, { sandbox: 'bwrap' });
  try {
    const t = task(id);
    await env.reset(t, { seed: 1 });
    for (const step of steps(t.golden.steps.slice(0, -1))) {
      const out = await env.call(step.tool, step.arguments, { signal });
      assert.equal(out.ok, true, out.ok ? '' : `${step.tool}: ${out.error}`);
    }
    const outcome = await env.verify({ answer: null });
    if (inspect) {
      await inspect(async (path) => {
        const out = await env.call('read_file', { path, limit: 2000 }, { signal });
        assert.equal(out.ok, true, out.ok ? '' : out.error);
        return out.ok ? out.content : '';
      });
    }
    return outcome;
  } finally {
    await env.close();
  }
}

describe('coding verifier against submissions that try to pass without being right', { skip, concurrency: 3 }, () => {
  it('passes the honest fix (the control)', async () => {
    const outcome = await judge('coding/intervals-merge', (golden) => golden);
    assert.equal(outcome.passed, true, JSON.stringify(outcome.checks));
  });

  for (const hack of KNOWN_CODING_HACKS) {
    it(`fails "${hack.name}": ${hack.summary}`, async () => {
      const outcome = await judge(hack.taskId, hack.steps);
      const hidden = outcome.checks.find((c) => c.name === 'hidden tests pass');
      assert.equal(outcome.passed, false);
      assert.equal(hidden?.passed, false, JSON.stringify(outcome.checks));
      // The grader names the behaviour that is wrong, not a crashed or missing run.
      assert.match(hidden.detail ?? '', /^failing: /);
    });
  }

  it('never lets an expected value into the sandbox, even while judging', async () => {
    // At import, the submission copies everything it can reach into the work dir: its worker's
    // data, every probe sent to it, the process's command line and environment, /tmp. The
    // expected values must not be there.
    const dump = `import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
const seen = [JSON.stringify(workerData ?? null), readFileSync('/proc/self/cmdline', 'utf8'), JSON.stringify(process.env)];
const walk = (dir) => { for (const e of readdirSync(dir, { withFileTypes: true })) { const p = dir + '/' + e.name; if (e.isDirectory()) walk(p); else if (e.isFile()) seen.push(p, readFileSync(p, 'utf8')); } };
try { walk('/tmp'); } catch {}
writeFileSync('/work/seen.txt', seen.join('\\n'));
parentPort?.on('message', (m) => appendFileSync('/work/seen.txt', '\\n' + JSON.stringify(m)));`;
    const suite = await loadSuite('todo-app/issues.test.mjs');
    await judge(
      'coding/todo-app-issues',
      () => [{ tool: 'run_command', arguments: { command: `cat >> src/store.js <<'EOF'\n${dump}\nEOF` } }],
      async (read) => {
        const seen = await read('seen.txt');
        // The probes themselves travel (that is what runs); their expectations do not.
        assert.match(seen, /store\.complete\('t1'\)/);
        assert.match(seen, /board\(\)\.complete\('t99'\)/);
        assert.doesNotMatch(seen, /1 day overdue/);
        assert.doesNotMatch(seen, /due in 4 days/);
        for (const c of suite.cases) if (c.expectation.kind === 'equals' && typeof c.expectation.value === 'string') assert.ok(!seen.includes(c.expectation.value), c.name);
      },
    );
  });
});
