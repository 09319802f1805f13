// Exporting tasks from a task file that came from elsewhere, into a folder that already holds
// things: the export must never delete or write outside its own task folders, never replace
// someone's files, and never write through a link planted at the destination.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Task } from '../../core/index.ts';
import { exportHarborTasks } from './export-harbor.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-hostile-export-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function terminalTask(id: string, files: Record<string, string> = { 'a.txt': 'x\n' }): Task {
  return Task.parse({
    id,
    env: 'terminal',
    instruction: 'Keep a.txt.',
    initialState: { files },
    verifier: { checks: [{ check: 'file_exists', path: 'a.txt' }] },
    golden: { steps: [{ tool: 'run_command', arguments: { command: 'true' } }] },
    tags: { domain: 'files', difficulty: 'easy' },
  });
}

let count = 0;
/** `<case>/keep.txt` beside `<case>/out/mine.txt`: files the export must leave alone. */
function destination(): { parent: string; out: string } {
  const parent = join(scratch, `case-${++count}`);
  const out = join(parent, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(parent, 'keep.txt'), 'keep\n');
  writeFileSync(join(out, 'mine.txt'), 'mine\n');
  return { parent, out };
}

function untouched(parent: string, out: string): void {
  assert.equal(readFileSync(join(parent, 'keep.txt'), 'utf8'), 'keep\n');
  assert.equal(readFileSync(join(out, 'mine.txt'), 'utf8'), 'mine\n');
}

describe('exporting hostile tasks into a folder that holds other files', () => {
  it('a task id that names the export folder itself or its parent is refused, and nothing is deleted', () => {
    for (const id of ['..', 'terminal/..', '.', 'terminal/.']) {
      const { parent, out } = destination();
      const result = exportHarborTasks({ tasks: [terminalTask(id)], dir: out });
      assert.deepEqual(result.exported, [], id);
      assert.match(result.refused[0]!.reasons.join('\n'), /its id gives no usable folder name/);
      untouched(parent, out);
    }
  });

  it('starting files whose paths leave the work dir are refused, and nothing is written outside', () => {
    for (const path of ['../../../escaped.txt', 'sub/../../../escaped.txt', '/etc/escaped.txt', '..']) {
      const { parent, out } = destination();
      const result = exportHarborTasks({ tasks: [terminalTask('terminal/escape', { [path]: 'pwned\n' })], dir: out });
      assert.deepEqual(result.exported, [], path);
      assert.match(result.refused[0]!.reasons.join('\n'), /file path ".*" is not inside the work dir \/work/);
      assert.deepEqual(readdirSync(parent).sort(), ['keep.txt', 'out']);
      assert.deepEqual(readdirSync(out), ['mine.txt']);
    }
  });

  it('a file where another file needs a folder is refused instead of failing half-written', () => {
    const { parent, out } = destination();
    const result = exportHarborTasks({ tasks: [terminalTask('terminal/clash', { a: 'x\n', 'a/b.txt': 'y\n' })], dir: out });
    assert.match(result.refused[0]!.reasons.join('\n'), /file path "a\/b\.txt" needs a to be a folder/);
    untouched(parent, out);
    assert.deepEqual(readdirSync(out), ['mine.txt'], 'no partial folder is left behind');
  });

  it("a folder of the task's name holding someone's files is left alone; the task is refused", () => {
    const { parent, out } = destination();
    mkdirSync(join(out, 'mytask'));
    writeFileSync(join(out, 'mytask', 'thesis.tex'), 'years of work\n');
    const result = exportHarborTasks({ tasks: [terminalTask('terminal/mytask')], dir: out });
    assert.deepEqual(result.exported, []);
    assert.match(result.refused[0]!.reasons[0]!, /mytask exists and is not an earlier export of this task; left as it is/);
    assert.equal(readFileSync(join(out, 'mytask', 'thesis.tex'), 'utf8'), 'years of work\n');
    untouched(parent, out);
  });

  it('a link planted where the task folder goes is neither followed nor replaced', () => {
    const { parent, out } = destination();
    const victim = join(parent, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'data'), 'keep\n');
    symlinkSync(victim, join(out, 'mytask'));
    const result = exportHarborTasks({ tasks: [terminalTask('terminal/mytask')], dir: out });
    assert.match(result.refused[0]!.reasons[0]!, /mytask is a symbolic link; not followed or replaced/);
    assert.deepEqual(readdirSync(victim), ['data']);
    assert.ok(existsSync(join(out, 'mytask', 'data')), 'the link is still there');
  });

  it('an earlier export of the same task is replaced, with nothing of it left over', () => {
    const { parent, out } = destination();
    const first = exportHarborTasks({ tasks: [terminalTask('terminal/mytask', { 'a.txt': 'x\n', 'old.txt': 'old\n' })], dir: out });
    assert.equal(first.exported.length, 1);
    assert.ok(existsSync(join(out, 'mytask', 'environment', 'files', 'old.txt')));
    const second = exportHarborTasks({ tasks: [terminalTask('terminal/mytask')], dir: out });
    assert.deepEqual(second.refused, []);
    assert.equal(second.exported[0]!.folder, join(out, 'mytask'));
    assert.equal(existsSync(join(out, 'mytask', 'environment', 'files', 'old.txt')), false);
    assert.ok(existsSync(join(out, 'mytask', 'task.toml')));
    assert.deepEqual(readdirSync(out).sort(), ['mine.txt', 'mytask'], 'no staging folder is left behind');
    untouched(parent, out);
  });
});
