import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Task, type JsonValue } from '../core/index.ts';
import { coding } from './coding/index.ts';
import { harbor } from './interop/harbor-env.ts';
import { importTaskFolder } from './interop/harbor.ts';
import { instantiate } from './instance.ts';
import { mail } from './mail/index.ts';
import { notes } from './notes/index.ts';
import { environmentNames, getEnvironment } from './index.ts';
import { needsDefaultImage, taskProblems, worldShape } from './task-check.ts';
import { terminal } from './terminal/index.ts';

function taskWith(env: string, check: Record<string, unknown>, initialState: Record<string, unknown> = {}): Task {
  return Task.parse({
    id: `${env}/t1`,
    env,
    instruction: 'Do it.',
    initialState,
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
    assert.deepEqual(taskProblems(coding, taskWith('coding', { check: 'table_unchanged', table: 'files', key: 'path' }, { files: { 'index.js': '' } })), []);
    assert.match(taskProblems(terminal, taskWith('terminal', { check: 'table_unchanged', table: 'files' }))[0] ?? '', /key "id" is not a column of table files \(columns: path, size, sha256, content\)/);
    assert.ok(worldShape(terminal).tables.has('files'));
  });
});

/** A task of `env` whose verifier and golden steps are sound, so only what a test changes is wrong. */
function taskOf(env: string, parts: { initialState?: Record<string, unknown>; checks?: Record<string, unknown>[]; steps?: { tool: string; arguments: Record<string, unknown> }[] }): Task {
  return Task.parse({
    id: `${env}/t2`,
    env,
    instruction: 'Do it.',
    initialState: parts.initialState ?? {},
    verifier: { checks: parts.checks ?? [{ check: 'answer_contains', values: ['ok'] }] },
    golden: { steps: parts.steps ?? [], answer: 'ok' },
    tags: { domain: 'd', difficulty: 'easy' },
  });
}

const stateProblemsOf = (env: string, initialState: Record<string, unknown>): string[] => taskProblems(getEnvironment(env), taskOf(env, { initialState })).filter((p) => p.startsWith('initialState'));

describe('initial states: nothing a task file gives is dropped', () => {
  it('every built-in environment declares the schema of its own initialState', () => {
    assert.ok(environmentNames().includes('workplace'));
    for (const name of environmentNames()) assert.ok(getEnvironment(name).initialState, `${name} declares no initialState schema`);
  });

  it('refuses a misspelt top-level key in every built-in environment, listing the keys it takes', () => {
    for (const name of environmentNames()) {
      const problems = stateProblemsOf(name, { fixtrues: [] });
      assert.ok(problems.some((p) => /^initialState: unknown key "fixtrues"; expected one of now, schedule, flakyTools, /.test(p)), `${name}: ${problems.join(' | ')}`);
    }
    assert.deepEqual(stateProblemsOf('mail', { mesages: [] }), [
      'initialState: unknown key "mesages" (did you mean "messages"?); expected one of now, schedule, flakyTools, folders, labels, contacts, messages, background, user',
    ]);
  });

  it('refuses misspelt keys inside fixtures, at the path where they are', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['mail', { messages: [{ from: 'a@b.example', subject: 's', body: 'b', hoursago: 2 }] }, /^initialState\.messages\.0: unknown key "hoursago" \(did you mean "hoursAgo"\?\)/],
      ['mail', { background: { min: 1, max: 2, maks: 3 } }, /^initialState\.background: unknown key "maks"/],
      ['notes', { pages: [{ id: 'p', title: 'T', blocks: ['# H', { text: 'x', chekced: true }] }] }, /^initialState\.pages\.0\.blocks\.1: unknown key "chekced" \(did you mean "checked"\?\)/],
      ['calendar', { events: [{ id: 'e', title: 'T', organizer: 'a@b.c', start: '2026-03-16T10:00', duraton_minutes: 30 }] }, /^initialState\.events\.0: unknown key "duraton_minutes" \(did you mean "duration_minutes"\?\)/],
      ['terminal', { files: { 'a.txt': 'a' }, noise: { dir: 'n', count: 2, cuont: 3 } }, /^initialState\.noise: unknown key "cuont" \(did you mean "count"\?\)/],
      ['qa', { followups: ['and then?'] }, /^initialState: unknown key "followups" \(did you mean "followUps"\?\)/],
      ['probes', { files: { 'a.json': '{}' }, tests: { target: 'a.json', expected: 'b.json', expcted: 'c' } }, /^initialState\.tests: unknown key "expcted"/],
      ['workplace', { mail: { mesages: [] } }, /^initialState\.mail: unknown key "mesages" \(did you mean "messages"\?\)/],
      ['workplace', { notes: { pages: [{ id: 'p', title: 'T', archvied: true }] } }, /^initialState\.notes\.pages\.0: unknown key "archvied" \(did you mean "archived"\?\)/],
      ['workplace', { user: { persona: 'p', goal: 'g', facts: [], requires: [], confirm: { required: true, sya: 'ok' } } }, /^initialState\.user\.confirm: unknown key "sya" \(did you mean "say"\?\)/],
    ];
    for (const [env, state, expected] of cases) {
      const problems = stateProblemsOf(env, state);
      assert.equal(problems.length, 1, `${env}: ${problems.join(' | ')}`);
      assert.match(problems[0]!, expected);
    }
  });

  it('checks an imported task\'s state too', () => {
    const { task } = importTaskFolder(fileURLToPath(new URL('../../test/fixtures/harbor/tb2-word-count', import.meta.url)));
    assert.deepEqual(taskProblems(harbor, task), []);
    const problems = taskProblems(harbor, { ...task, initialState: { ...task.initialState, timeouts: { agentSec: 60, verifierSec: 60, buildSec: 60, idleSec: 5 } } });
    assert.match(problems.join('\n'), /^initialState\.timeouts: unknown key "idleSec"/m);
  });

  it('refuses a fixture the environment cannot seed when the task is loaded, naming the field and what it takes', () => {
    const problems = stateProblemsOf('mail', { messages: [{ id: 'msg_1', from: 'a@b.example', subject: 's', body: 'b' }] });
    assert.deepEqual(problems, ['initialState.messages.0.id: msg_ followed by four digits']);
    assert.deepEqual(stateProblemsOf('workplace', { mail: { messages: [{ id: 'msg_1', from: 'a@b.example', subject: 's', body: 'b' }] } }), [
      'initialState.mail.messages.0.id: msg_ followed by four digits',
    ]);
    assert.deepEqual(stateProblemsOf('coding', {}), ['initialState: give a project, files, or both']);
  });

  it('refuses a misspelt parameter of a scheduled world event', () => {
    const schedule = [{ event: 'comment_added', afterCalls: 1, params: { id: 'c1', page_id: 'p', text: 'hi', autor: 'u-priya' } }];
    assert.deepEqual(stateProblemsOf('notes', { schedule }), ['initialState.schedule.0.params: unknown key "autor" (did you mean "author"?); expected one of id, page_id, block_id, author, text']);
  });

  it('refuses a task with such a state at reset too, when it was made in code and never checked', async () => {
    const env = instantiate(getEnvironment('mail'));
    try {
      await assert.rejects(env.reset(taskOf('mail', { initialState: { mesages: [] } }), { seed: 1 }), /task mail\/t2: initialState: unknown key "mesages" \(did you mean "messages"\?\)/);
    } finally {
      await env.close();
    }
  });
});

describe('golden steps and check parameters: nothing misspelt is dropped', () => {
  it('refuses a misspelt optional argument of a golden step, listing the tool\'s arguments', () => {
    const task = taskOf('mail', { steps: [{ tool: 'add_contact', arguments: { name: 'Sigrun Tveit', email: 'sigrun@halvorsen.example', compnay: 'Halvorsen' } }] });
    assert.deepEqual(taskProblems(mail, task), ['golden.steps.0.arguments: unknown key "compnay" (did you mean "company"?); expected one of name, email, company, phone, notes']);
  });

  it('refuses golden arguments the tool would refuse, before any replay', () => {
    const task = taskOf('mail', { steps: [{ tool: 'read_message', arguments: {} }] });
    assert.match(taskProblems(mail, task).join('\n'), /^golden\.steps\.0\.arguments\.messageId: /m);
  });

  it('refuses a misspelt check parameter, which would otherwise leave the check weaker than written', () => {
    const task = taskOf('mail', { checks: [{ check: 'contact_exists', email: 'sigrun@halvorsen.example', compnay: 'Halvorsen' }] });
    assert.deepEqual(
      taskProblems(mail, task).map((p) => p.replace(/; expected one of .*/, '')),
      ['verifier.checks.0 (contact_exists): unknown key "compnay" (did you mean "company"?)'],
    );
  });
});
