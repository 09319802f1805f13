import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Task, type Environment, type ToolOutcome } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { instantiate } from '../instance.ts';
import { rowsOf } from '../state.ts';
import { coding } from './index.ts';

const { bwrap } = await sandboxAvailability();
const skip = bwrap.available ? false : 'bwrap unavailable';
const signal = new AbortController().signal;

const repo = {
  'package.json': '{ "type": "module" }\n',
  'src/sum.js': 'export function sum(a, b) {\n  return a - b;\n}\n\nexport function twice(a) {\n  return sum(a, a);\n}\n',
  'src/repeat.js': 'export const x = 1;\nexport const y = 1;\n',
  'test/sum.test.js': "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { sum } from '../src/sum.js';\n\ntest('adds', () => assert.equal(sum(2, 3), 5));\n",
};

const task = Task.parse({
  id: 'coding/tools-under-test',
  env: 'coding',
  instruction: 'test',
  initialState: { files: repo },
  verifier: { checks: [{ check: 'files_unchanged_except', except: ['src/**'] }] },
  golden: { steps: [] },
  tags: { domain: 'coding', difficulty: 'easy' },
});

function text(out: ToolOutcome): string {
  assert.equal(out.ok, true, out.ok ? '' : out.error);
  return out.ok ? out.content : '';
}

function error(out: ToolOutcome): string {
  assert.equal(out.ok, false, 'expected the call to fail');
  return out.ok ? '' : out.error;
}

/** A fresh coding episode in bwrap for the enclosing suite: its tool calls, and the environment. */
function codingEpisode(): { call: (tool: string, args: Record<string, unknown>) => Promise<ToolOutcome>; env: () => Environment } {
  let env: Environment;
  before(async () => {
    env = instantiate(coding, { sandbox: 'bwrap' });
    await env.reset(task, { seed: 1 });
  });
  after(() => env.close());
  return { call: (tool, args) => env.call(tool, args, { signal }), env: () => env };
}

describe('coding tools', { skip }, () => {
  const { call, env } = codingEpisode();

  it('reads files with line numbers, offset and limit', async () => {
    const out = text(await call('read_file', { path: 'src/sum.js', offset: 2, limit: 2 }));
    assert.equal(out, 'src/sum.js (lines 2-3 of 7)\n     2\t  return a - b;\n     3\t}\n(4 more lines: read_file with offset 4)');
    assert.match(error(await call('read_file', { path: 'src/sum.js', offset: 50 })), /has 7 lines/);
    assert.match(error(await call('read_file', { path: 'src/nope.js' })), /no such file/);
    assert.match(error(await call('read_file', { path: 'src' })), /src is a folder/);
  });

  it('refuses paths outside the repo', async () => {
    assert.match(error(await call('read_file', { path: '../etc/passwd' })), /outside the work dir/);
    assert.match(error(await call('write_file', { path: '/etc/x', content: '' })), /outside the work dir/);
  });

  it('edits exact unique text and explains every miss', async () => {
    assert.match(error(await call('edit_file', { path: 'src/sum.js', oldText: 'return a + b;', newText: 'x' })), /not found in src\/sum\.js/);
    assert.match(error(await call('edit_file', { path: 'src/sum.js', oldText: 'return a - b;  ', newText: 'x' })), /leading\/trailing whitespace/);
    assert.match(error(await call('edit_file', { path: 'src/repeat.js', oldText: ' = 1;', newText: ' = 2;' })), /occurs 2 times in src\/repeat\.js \(lines 1, 2\)/);
    assert.match(error(await call('edit_file', { path: 'src/sum.js', oldText: 'a', newText: 'a' })), /identical|occurs/);
    assert.equal(text(await call('edit_file', { path: 'src/sum.js', oldText: 'return a - b;', newText: 'return a + b;' })), 'Edited src/sum.js: replaced 1 line(s) with 1 at line 2');
  });

  it('runs commands in the repo and reports exit codes, output and timeouts', async () => {
    const passing = text(await call('run_command', { command: 'node --test 2>&1 | grep -E "^# (pass|fail)"' }));
    assert.match(passing, /^exit code 0\nstdout:\n# pass 1\n# fail 0/);
    assert.match(text(await call('run_command', { command: 'echo oops >&2; exit 3' })), /^exit code 3\nstderr:\noops/);
    assert.match(text(await call('run_command', { command: 'sleep 5', timeoutSeconds: 1 })), /timed out after 1s/);
    assert.match(text(await call('run_command', { command: 'pwd' })), /\/work\n/);
  });

  it('writes files, creating folders, and lists them', async () => {
    assert.equal(text(await call('write_file', { path: 'notes/deep/todo.md', content: 'a\nb\n' })), 'Created notes/deep/todo.md (2 lines)');
    const listing = text(await call('list_files', { path: 'notes' }));
    assert.equal(listing, '1 file(s) under notes:\nnotes/deep/todo.md  4');
    assert.match(text(await call('list_files', {})), /package\.json {2}\d+\nsrc\/repeat\.js/);
    assert.match(error(await call('list_files', { path: 'missing' })), /no such folder/);
  });

  it('searches with regular expressions, optionally under a path', async () => {
    assert.equal(text(await call('search_code', { pattern: 'function \\w+\\(a\\)', path: 'src' })), 'src/sum.js:5: export function twice(a) {');
    assert.match(text(await call('search_code', { pattern: 'SUM', ignoreCase: true, path: 'test' })), /^test\/sum\.test\.js:3: /);
    assert.match(text(await call('search_code', { pattern: 'zzz' })), /no matches/);
    assert.match(error(await call('search_code', { pattern: '(' })), /invalid regular expression/);
  });

  it('records commands, writes and edits in the audit table, deterministically', async () => {
    const rows = rowsOf(await env().snapshot(), 'audit');
    assert.deepEqual(
      rows.map((r) => r.tool),
      ['edit_file', 'run_command', 'run_command', 'run_command', 'run_command', 'write_file'],
    );
    assert.deepEqual(rows.find((r) => r.exit_code === 3)?.command, 'echo oops >&2; exit 3');
    assert.equal(rows.find((r) => r.detail === 'timed out')?.command, 'sleep 5');
  });

  it('ends the episode on submit with the summary as the answer', async () => {
    assert.deepEqual(await call('submit', { summary: 'fixed sum' }), { ok: true, content: 'Submitted.', answer: 'fixed sum', endsEpisode: true });
  });
});

describe('coding tools under hostile arguments', { skip }, () => {
  const { call } = codingEpisode();

  it('stops a backtracking search pattern with a tool error while the process keeps running', async () => {
    // (a+)+$ over 31 a's and a "!" backtracks 2^31 times: minutes with the runner's own thread frozen,
    // as it was before the search moved to a worker (and so this test fails rather than hangs then).
    text(await call('write_file', { path: 'src/bomb.txt', content: `${'a'.repeat(31)}!\n` }));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 100);
    try {
      const stopped = await call('search_code', { pattern: '(a+)+$', path: 'src' });
      assert.equal(stopped.ok ? '' : stopped.kind, 'tool_error');
      assert.match(error(stopped), /\(a\+\)\+\$\/ took over 5 s on 3 files and was stopped; simplify the pattern/);
      assert.ok(ticks >= 20, `the event loop ran ${ticks} times in the search's 5 s`);
    } finally {
      clearInterval(ticker);
    }
    assert.equal(text(await call('search_code', { pattern: 'a{31}!', path: 'src' })), `src/bomb.txt:1: ${'a'.repeat(31)}!`);
  });

  it('answers an overlong path and a NUL byte in a command with errors naming them', async () => {
    const long = await call('write_file', { path: 'x'.repeat(300), content: 'x' });
    assert.equal(long.ok ? '' : long.kind, 'tool_error');
    assert.match(error(long), /^path "x{60}…x{10}" has a name of 300 bytes \(at most 255\)/);
    const nul = await call('run_command', { command: 'echo a\u0000b' });
    assert.equal(nul.ok ? '' : nul.kind, 'invalid_arguments');
    assert.match(error(nul), /command: a command line without NUL bytes/);
  });
});
