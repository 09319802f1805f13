// Answers and file tricks that tried to pass terminal checks without doing the task: each passed
// the checks before they were tightened (see docs/design/environments.md, "Grader isolation").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Task, type ToolInvocation, type VerifierOutcome } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { instantiate } from '../instance.ts';
import { terminal, terminalTasks } from './index.ts';

const { bwrap } = await sandboxAvailability();
const signal = new AbortController().signal;

async function outcome(task: Task, steps: ToolInvocation[], options: { sandbox: 'virtual' | 'bwrap'; answer?: string }): Promise<VerifierOutcome> {
  const env = instantiate(terminal, { sandbox: options.sandbox });
  try {
    await env.reset(task, { seed: 3 });
    for (const step of steps) {
      const out = await env.call(step.tool, step.arguments, { signal });
      assert.equal(out.ok, true, out.ok ? '' : `${step.tool}: ${out.error}`);
    }
    return await env.verify({ answer: options.answer ?? null });
  } finally {
    await env.close();
  }
}

const builtin = (id: string): Task => {
  const task = terminalTasks().find((t) => t.id === id);
  assert.ok(task, `no task ${id}`);
  return task;
};
const sh = (command: string): ToolInvocation => ({ tool: 'run_command', arguments: { command } });
const failed = (result: VerifierOutcome) => result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail ?? ''}`);

describe('terminal answers that list every candidate', () => {
  const task = builtin('terminal/count-error-lines');

  it('fail answer_number: "0 1 2 … 100" contains the right count by construction', async () => {
    const shotgun = Array.from({ length: 101 }, (_, i) => String(i)).join(' ');
    const result = await outcome(task, [], { sandbox: 'virtual', answer: shotgun });
    assert.equal(result.passed, false);
    assert.match(failed(result).join('\n'), /answer states 7 but also 0, 1, 2, 3, 4 \(\+95 more\): give one number/);
  });

  it('fail a hedged answer that names two counts', async () => {
    const result = await outcome(task, [], { sandbox: 'virtual', answer: 'Either 7 or 9, depending on how you count.' });
    assert.equal(result.passed, false);
  });

  it('still pass a plain answer, with numbers that belong to file names or dates', async () => {
    for (const answer of ['7', 'There are 7 ERROR entries in logs/app.log.', '7 (logs/app.log.1 is yesterday, 2026-01-27, and not counted)']) {
      const result = await outcome(task, [], { sandbox: 'virtual', answer });
      assert.deepEqual(failed(result), [], answer);
    }
  });
});

describe('terminal checks against files left in place of a deleted one', { skip: bwrap.available ? false : 'bwrap unavailable' }, () => {
  const task = builtin('terminal/clean-build-tmp');
  const remove = 'rm build/app.js.tmp build/assets/logo.svg.tmp build/cache/a1.tmp build/cache/b2.tmp';

  it('fail file_absent when a fifo or an empty directory keeps the name', async () => {
    const result = await outcome(task, [sh(`${remove} && mkfifo build/cache/a1.tmp && mkdir build/cache/b2.tmp`)], { sandbox: 'bwrap' });
    assert.deepEqual(failed(result), ['file_absent: build/cache/a1.tmp still exists (not as a regular file)', 'file_absent: build/cache/b2.tmp still exists (not as a regular file)']);
  });

  it('fail file_absent when the agent locks its work dir so the check cannot look', async () => {
    const result = await outcome(task, [sh(`${remove} && mkfifo build/cache/a1.tmp && chmod 000 build/cache`)], { sandbox: 'bwrap' });
    assert.match(failed(result).join('\n'), /file_absent: cannot tell whether build\/cache\/a1\.tmp is gone: .*Permission denied/);
  });

  it('pass when the files are really gone', async () => {
    const result = await outcome(task, [sh(remove)], { sandbox: 'bwrap' });
    assert.deepEqual(failed(result), []);
  });
});

/** A task judged by a verification command over data.json, with new files allowed anywhere. */
function commandTask(command: string): Task {
  return Task.parse({
    id: 'terminal/test-verification-command',
    env: 'terminal',
    instruction: 'Add a third item (3) to the items list in data.json.',
    initialState: { files: { 'data.json': '{ "items": [1, 2] }\n' } },
    verifier: {
      checks: [
        { check: 'command_output_equals', command, stdout: '3' },
        { check: 'files_unchanged_except', except: ['data.json'], allowNew: ['**'] },
      ],
    },
    golden: { steps: [{ tool: 'write_file', arguments: { path: 'data.json', content: '{ "items": [1, 2, 3] }\n' } }, { tool: 'submit', arguments: {} }] },
    tags: { domain: 'terminal', difficulty: 'easy', labels: ['test'] },
  });
}

describe('verification commands against configuration the agent planted', { skip: bwrap.available ? false : 'bwrap unavailable' }, () => {
  const tools = async () => {
    const env = instantiate(terminal, { sandbox: 'bwrap' });
    await env.reset(commandTask('true'), { seed: 1 });
    const out = await env.call('run_command', { command: 'command -v jq python3 | wc -l' }, { signal });
    await env.close();
    return out.ok ? Number(/stdout:\n(\d+)/.exec(out.content)?.[1]) : 0;
  };

  it('fail with a ~/.jq that redefines length (HOME is the work dir while the agent works)', async (t) => {
    if ((await tools()) < 2) return t.skip('jq or python3 is not installed in the sandbox');
    const task = commandTask("jq '.items | length' data.json");
    const hacked = await outcome(task, [{ tool: 'write_file', arguments: { path: '.jq', content: 'def length: 3;\n' } }], { sandbox: 'bwrap' });
    assert.match(failed(hacked).join('\n'), /command_output_equals: .*expected "3", found "2"/);
    assert.deepEqual(failed(await outcome(task, task.golden.steps, { sandbox: 'bwrap' })), []);
  });

  it('fail with a json.py in the work dir that shadows the standard library for python3 -c', async (t) => {
    if ((await tools()) < 2) return t.skip('jq or python3 is not installed in the sandbox');
    const task = commandTask(`python3 -c "import json; print(len(json.load(open('data.json'))['items']))"`);
    const planted = 'def load(_file):\n    return {"items": [1, 2, 3]}\n';
    const hacked = await outcome(task, [{ tool: 'write_file', arguments: { path: 'json.py', content: planted } }], { sandbox: 'bwrap' });
    assert.match(failed(hacked).join('\n'), /command_output_equals: .*expected "3", found "2"/);
    assert.deepEqual(failed(await outcome(task, task.golden.steps, { sandbox: 'bwrap' })), []);
  });
});
