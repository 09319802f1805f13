import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Task, type JsonValue } from '../core/index.ts';
import { coding } from './coding/index.ts';
import { harbor } from './interop/harbor-env.ts';
import { importTaskFolder } from './interop/harbor.ts';
import { notes } from './notes/index.ts';
import { needsDefaultImage, taskProblems, worldShape } from './task-check.ts';
import { terminal } from './terminal/index.ts';

function taskWith(env: string, check: Record<string, unknown>): Task {
  return Task.parse({
    id: `${env}/t1`,
    env,
    instruction: 'Do it.',
    verifier: { checks: [check] },
    golden: { steps: [] },
    tags: { domain: 'd', difficulty: 'easy' },
  });
}

describe('which tasks bring their own sandbox image', () => {
  it('needs the default image for a sandboxed task without one, and none for an imported task or a task with no sandbox', () => {
    assert.equal(needsDefaultImage(terminal, taskWith('terminal', { check: 'table_unchanged', table: 'files', key: 'path' })), true);
    assert.equal(needsDefaultImage(notes, taskWith('notes', { check: 'table_unchanged', table: 'pages' })), false);
    const { task } = importTaskFolder(fileURLToPath(new URL('../../test/fixtures/harbor/tb2-word-count', import.meta.url)));
    assert.equal(needsDefaultImage(harbor, task), false);
    const { image: _image, ...withoutImage } = task.initialState as Record<string, JsonValue>;
    assert.equal(needsDefaultImage(harbor, { ...task, initialState: withoutImage }), true);
  });
});

describe('task problems known before an episode', () => {
  it('refuses table_unchanged on a table the world lacks, which would compare nothing and pass', () => {
    assert.deepEqual(taskProblems(notes, taskWith('notes', { check: 'table_unchanged', table: 'pages' })), []);
    const [problem, ...rest] = taskProblems(notes, taskWith('notes', { check: 'table_unchanged', table: 'page' }));
    assert.equal(rest.length, 0);
    assert.match(problem ?? '', /^verifier\.checks\.0 \(table_unchanged\): table "page" is not in this environment's state \(tables: .*\bpages\b/);
  });

  it('refuses a key the table has no column for, and takes one it has', () => {
    assert.match(taskProblems(notes, taskWith('notes', { check: 'table_unchanged', table: 'pages', key: 'slug' }))[0] ?? '', /key "slug" is not a column of table pages/);
    assert.deepEqual(taskProblems(notes, taskWith('notes', { check: 'table_unchanged', table: 'pages', key: 'title' })), []);
  });

  it('knows the tables an environment adds to its snapshot beyond SQLite (the sandbox files)', () => {
    assert.deepEqual(taskProblems(terminal, taskWith('terminal', { check: 'table_unchanged', table: 'files', key: 'path' })), []);
    assert.deepEqual(taskProblems(coding, taskWith('coding', { check: 'table_unchanged', table: 'files', key: 'path' })), []);
    assert.match(taskProblems(terminal, taskWith('terminal', { check: 'table_unchanged', table: 'files' }))[0] ?? '', /key "id" is not a column of table files \(columns: path, size, sha256, content\)/);
    assert.ok(worldShape(terminal).tables.has('files'));
  });
});
