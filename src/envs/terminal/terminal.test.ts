import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Task } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { rowsOf } from '../state.ts';
import { globToRegExp, normaliseText } from './files.ts';
import { terminal, terminalTasks } from './index.ts';

const signal = new AbortController().signal;
const tasks = terminalTasks();

describe('terminal task set', () => {
  it('has at least 25 tasks, four or more needing 20+ calls and several more needing 10+', () => {
    assert.ok(tasks.length >= 25, `only ${tasks.length} tasks`);
    const long = tasks.filter((t) => t.golden.steps.length >= 20);
    const medium = tasks.filter((t) => t.golden.steps.length >= 10);
    assert.ok(long.length >= 4, `only ${long.length} tasks with 20+ golden steps`);
    assert.ok(medium.length >= 8, `only ${medium.length} tasks with 10+ golden steps`);
    for (const t of tasks) {
      assert.match(t.id, /^terminal\/[a-z0-9-]+$/);
      assert.equal(t.env, 'terminal');
      assert.equal(t.tags.domain, 'terminal');
      const kinds = (t.verifier.checks as { check: string }[]).map((c) => c.check);
      assert.ok(kinds.includes('files_unchanged_except'), `${t.id} has no invariant over the other files`);
    }
  });
});

describe('terminal tasks on the virtual sandbox', { concurrency: 4 }, () => {
  for (const task of tasks) {
    it(`${task.id}: golden passes, idle and destructive fail`, async () => {
      const result = await checkTaskDirectly(terminal, task, { sandbox: 'virtual' });
      assert.deepEqual(result.problems, [], result.problems.join('\n'));
    });
  }

  it('placeholder arguments fail every task', async () => {
    for (const task of tasks) {
      const env = instantiate(terminal, { sandbox: 'virtual' });
      await env.reset(task, { seed: 1 });
      await env.call('run_command', { command: 'placeholder' }, { signal });
      await env.call('read_file', { path: 'placeholder' }, { signal });
      await env.call('write_file', { path: 'placeholder', content: 'placeholder' }, { signal });
      await env.call('list_files', { path: 'placeholder' }, { signal });
      await env.call('submit', { answer: 'placeholder' }, { signal });
      const outcome = await env.verify({ answer: 'placeholder' });
      await env.close();
      assert.equal(outcome.passed, false, `${task.id} passes with placeholder arguments`);
    }
  });
});

/** Runs `steps` on a fresh episode of the task and returns whether the verifier passes. */
async function passes(taskId: string, steps: { tool: string; arguments: Record<string, unknown> }[], answer: string | null = null): Promise<boolean> {
  const task = tasks.find((t) => t.id === taskId);
  assert.ok(task, `no task ${taskId}`);
  const env = instantiate(terminal, { sandbox: 'virtual' });
  try {
    await env.reset(task, { seed: 3 });
    for (const s of steps) await env.call(s.tool, s.arguments, { signal });
    return (await env.verify({ answer })).passed;
  } finally {
    await env.close();
  }
}

describe('terminal verifiers judge outcomes, not commands', () => {
  it('accepts another valid way to the same files, and rejects plausible wrong answers', async () => {
    // Same outcome as the golden sed, written with awk and a different spacing style.
    const fixed = await passes('terminal/fix-yaml-key-typo', [
      { tool: 'run_command', arguments: { command: "awk '{ sub(/^  prot:/, \"  port:\"); print }' config/app.yaml > /tmp/app.yaml && cat /tmp/app.yaml > config/app.yaml" } },
    ]);
    assert.equal(fixed, true);
    // Counting every line that mentions ERROR over-counts (one WARN line quotes an ERROR page).
    assert.equal(await passes('terminal/count-error-lines', [], '8'), false);
    assert.equal(await passes('terminal/count-error-lines', [], 'There are 7 ERROR entries.'), true);
    assert.equal(await passes('terminal/count-error-lines', [], '17'), false);
  });

  it('fails port assignments taken from the outdated runbook', async () => {
    const task = tasks.find((t) => t.id === 'terminal/port-assignments-20') as Task;
    const runbook = (task.initialState as { files: Record<string, string> }).files['docs/old-runbook.md'] as string;
    const steps = [...runbook.matchAll(/^(\w+): (\d+)$/gm)].map(([, name, port]) => ({
      tool: 'run_command',
      arguments: { command: `sed -i 's/^port = TODO$/port = ${port}/' services/${name}/service.conf` },
    }));
    assert.equal(steps.length, 20);
    assert.equal(await passes(task.id, steps), false);
  });

  it('catches a change to a file the task did not ask to touch', async () => {
    const task = tasks.find((t) => t.id === 'terminal/merge-env-files') as Task;
    const steps = [...task.golden.steps, { tool: 'run_command', arguments: { command: "echo 'PORT=1' >> .env.local" } }];
    assert.equal(await passes(task.id, steps), false);
  });
});

describe('terminal tools', () => {
  const task = Task.parse({
    id: 'terminal/tools-probe',
    env: 'terminal',
    instruction: 'probe',
    initialState: { files: { 'a.txt': 'hello\n' }, noise: { dir: 'noise', count: 3 } },
    verifier: { checks: [{ check: 'file_exists', path: 'a.txt' }] },
    golden: { steps: [] },
    tags: { domain: 'terminal', difficulty: 'easy' },
  });

  it('runs commands, reports exit codes and output, and keeps an audit table', async () => {
    const env = instantiate(terminal, { sandbox: 'virtual' });
    await env.reset(task, { seed: 1 });
    const ran = await env.call('run_command', { command: 'cat a.txt; echo oops >&2; exit 2' }, { signal });
    assert.ok(ran.ok);
    assert.equal(ran.content, 'exit code: 2\nstdout:\nhello\n\nstderr:\noops\n');
    assert.deepEqual(ran.data, { exitCode: 2, stdout: 'hello\n', stderr: 'oops\n', truncated: false, timedOut: false });
    const slow = await env.call('run_command', { command: 'sleep 5', timeoutSeconds: 0.2 }, { signal });
    assert.ok(slow.ok && slow.content.startsWith('exit code: 124 (timed out after 0.2 s)'));
    assert.deepEqual(await env.call('read_file', { path: '/work/a.txt' }, { signal }), { ok: true, content: 'hello\n' });
    assert.equal((await env.call('write_file', { path: 'dir/b.txt', content: 'bee' }, { signal })).ok, true);
    const listing = await env.call('list_files', { path: 'dir' }, { signal });
    assert.deepEqual(listing, { ok: true, content: '       3  dir/b.txt' });
    const rows = rowsOf(await env.snapshot(), 'commands');
    assert.deepEqual(rows.map((r) => [r.tool, r.target, r.exit_code]), [
      ['run_command', 'cat a.txt; echo oops >&2; exit 2', 2],
      ['run_command', 'sleep 5', 124],
      ['read_file', '/work/a.txt', null],
      ['write_file', 'dir/b.txt', null],
      ['list_files', 'dir', null],
    ]);
    await env.close();
  });

  it('turns missing files and paths outside the work dir into errors the agent can read', async () => {
    const env = instantiate(terminal, { sandbox: 'virtual' });
    await env.reset(task, { seed: 1 });
    assert.deepEqual(await env.call('read_file', { path: 'nope.txt' }, { signal }), { ok: false, kind: 'tool_error', error: 'read_file: no file at nope.txt' });
    const outside = await env.call('write_file', { path: '../etc/passwd', content: 'x' }, { signal });
    assert.equal(outside.ok, false);
    assert.match(!outside.ok ? outside.error : '', /outside the work dir/);
    const bad = await env.call('run_command', { command: '' }, { signal });
    assert.equal(bad.ok ? '' : bad.kind, 'invalid_arguments');
    await env.close();
  });

  it('answers a NUL byte in a command and an overlong path with errors naming them, on every sandbox here', async () => {
    const { bwrap } = await sandboxAvailability();
    for (const backend of bwrap.available ? (['virtual', 'bwrap'] as const) : (['virtual'] as const)) {
      const env = instantiate(terminal, { sandbox: backend });
      await env.reset(task, { seed: 1 });
      try {
        const nul = await env.call('run_command', { command: 'echo a\u0000b' }, { signal });
        assert.equal(nul.ok ? '' : nul.kind, 'invalid_arguments', `${backend}: ${nul.ok ? nul.content : nul.error}`);
        assert.match(nul.ok ? '' : nul.error, /command: a command line without NUL bytes/);
        for (const path of ['x'.repeat(300), `${'d/'.repeat(2_100)}f`]) {
          const long = await env.call('write_file', { path, content: 'x' }, { signal });
          // The virtual shell may store it; a real file system refuses it, and the agent must hear why.
          if (!long.ok) {
            assert.equal(long.kind, 'tool_error', `${backend}: ${long.error}`);
            assert.match(long.error, /has a name of 300 bytes \(at most 255\)|is \d+ bytes long \(at most 3839\)/);
            assert.doesNotMatch(long.error, /gauntlet-sandboxes|\/proc\//, 'no host path');
          } else assert.equal(backend, 'virtual');
        }
        assert.deepEqual(await env.call('read_file', { path: 'a.txt' }, { signal }), { ok: true, content: 'hello\n' });
      } finally {
        await env.close();
      }
    }
  });

  it('seeds background files that differ by seed, and snapshots hashes plus small contents', async () => {
    const names = async (seed: number) => {
      const env = instantiate(terminal, { sandbox: 'virtual' });
      await env.reset(task, { seed });
      const files = (await env.snapshot()).files as { path: string; sha256: string; content?: string }[];
      await env.close();
      return files;
    };
    const [one, again, other] = [await names(1), await names(1), await names(2)];
    assert.deepEqual(one, again);
    assert.notDeepEqual(one.map((f) => f.path), other.map((f) => f.path));
    assert.deepEqual(one.find((f) => f.path === 'a.txt')?.content, 'hello\n');
    assert.equal(one.filter((f) => f.path.startsWith('noise/')).length, 3);
  });
});

describe('terminal check helpers', () => {
  it('matches globs segment by segment, with ** across directories', () => {
    assert.equal(globToRegExp('build/**/*.tmp').test('build/a.tmp'), true);
    assert.equal(globToRegExp('build/**/*.tmp').test('build/x/y/a.tmp'), true);
    assert.equal(globToRegExp('build/**/*.tmp').test('src/a.tmp'), false);
    assert.equal(globToRegExp('services/*/service.conf').test('services/a/b/service.conf'), false);
    assert.equal(globToRegExp('./docs/*.md').test('docs/a.md'), true);
  });

  it('normalises text only as far as asked', () => {
    assert.equal(normaliseText('b  x\na\n\n', {}), 'b  x\na');
    assert.equal(normaliseText(' b   x \r\na\n', { normalizeWhitespace: true, sortLines: true }), 'a\nb x');
    assert.equal(normaliseText('A\n\nb\n', { ignoreBlankLines: true, ignoreCase: true }), 'a\nb');
  });
});
