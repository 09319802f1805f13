// Validated before trusted: every qa task's golden answers pass through the agent loop and by
// replay, and do-nothing, random, placeholder and destructive policies (all of which can only
// answer "Done." in a tool-free environment) fail every one.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { InfraError, type Task } from '../../core/index.ts';
import { validateEnvironment } from '../../runner/index.ts';
import { instantiate } from '../instance.ts';
import { loadTaskFile } from '../tasks.ts';
import { NEEDS_JUDGE, qa, qaSelfCheck } from './index.ts';
import { chat, grade, qaTask } from './test-support.ts';

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

function invalid(report: Awaited<ReturnType<typeof validateEnvironment>>): string[] {
  return report.tasks.filter((t) => !t.valid).map((t) => `${t.taskId}: ${t.problems.join('; ')}`);
}

const followUpsOf = (task: Task) => (Array.isArray(task.initialState.followUps) ? task.initialState.followUps.length : 0);
const checksOf = (task: Task) => (task.verifier.checks as { check: string }[]).map((c) => c.check);

describe('qa built-in tasks', () => {
  const tasks = qa.tasks();

  it('every task is valid: golden passes, every other policy fails, same seed same state', { timeout: 120_000 }, async () => {
    const report = await validateEnvironment({ definition: qa, seed: 3, randomTries: 2 });
    assert.deepEqual(invalid(report), []);
  });

  it('cover math, logic, writing and agentic prompts, several each, with honest ids', () => {
    const byDomain = new Map<string, number>();
    for (const task of tasks) byDomain.set(task.tags.domain, (byDomain.get(task.tags.domain) ?? 0) + 1);
    assert.deepEqual([...byDomain.keys()].sort(), ['agentic', 'logic', 'math', 'writing']);
    for (const [domain, count] of byDomain) assert.ok(count >= 6, `${domain} has ${count} tasks`);
    assert.ok(tasks.length >= 24);
    for (const task of tasks) assert.match(task.id, /^qa\/[a-z0-9-]+$/);
    assert.deepEqual(new Set(tasks.map((t) => t.tags.difficulty)), new Set(['easy', 'medium', 'hard']));
  });

  it('include multi-turn and checklist tasks, and no judge tasks', () => {
    assert.ok(tasks.filter((t) => followUpsOf(t) > 0).length >= 5);
    const checklist = tasks.filter((t) => t.systemPrompt && checksOf(t).some((c) => ['system_rule', 'must_not_mention', 'format', 'max_words', 'no_tool_calls'].includes(c)));
    assert.ok(checklist.length >= 3, `${checklist.length} tasks with a system prompt and checklist checks`);
    assert.deepEqual(tasks.filter((t) => checksOf(t).includes('judge') || t.tags.labels.includes(NEEDS_JUDGE)).map((t) => t.id), []);
  });

  it('offer no tools and record the conversation in SQLite', async () => {
    const task = tasks.find((t) => t.id === 'qa/math-committee')!;
    const env = instantiate(qa);
    try {
      await env.reset(task, { seed: 1 });
      assert.deepEqual(env.tools(), []);
      const [followUp] = task.initialState.followUps as string[];
      assert.equal(await env.followUp?.('120', 1), followUp);
      assert.equal(await env.followUp?.('112', 2), null);
      const state = await env.snapshot();
      assert.deepEqual(state.questions, [
        { turn: 1, task_id: task.id, text: task.instruction },
        { turn: 2, task_id: task.id, text: followUp },
      ]);
      assert.deepEqual(state.answers, [
        { turn: 1, text: '120' },
        { turn: 2, text: '112' },
      ]);
      // Recorded answers stand in for a transcript when the verifier gets none.
      assert.ok((await env.verify({ answer: '112' })).passed);
      assert.deepEqual(await env.destructiveActions(), []);
    } finally {
      await env.close();
    }
  });
});

describe('qa task self-checks', () => {
  it('catch golden follow-up answers that do not match the follow-ups, and unlabelled judge tasks', () => {
    const task = qaTask([{ check: 'judge', rubric: 'r' }], { followUps: ['next?'], golden: { answer: 'a' } });
    assert.deepEqual(qaSelfCheck(task), [
      'golden.followUpAnswers has 0 answers for 1 initialState.followUps',
      'the verifier uses a judge; label the task "needs-judge"',
    ]);
    assert.deepEqual(qaSelfCheck(qaTask([{ check: 'answered' }])), []);
  });

  it('reject a bad initialState when the episode starts, naming the field', async () => {
    const task = qaTask([{ check: 'answered' }]);
    const bad = { ...task, initialState: { followUps: 'next?' } };
    const env = instantiate(qa);
    await assert.rejects(env.reset(bad, { seed: 1 }), /task qa\/test: initialState\.followUps: /);
    await env.close();
  });
});

describe('examples', () => {
  it('fun-questions.yaml: a dozen valid qa probes', { timeout: 60_000 }, async () => {
    const tasks = loadTaskFile(example('fun-questions.yaml'));
    assert.ok(tasks.length >= 12);
    assert.ok(tasks.every((t) => t.env === 'qa'));
    const report = await validateEnvironment({ definition: qa, tasks, seed: 3, randomTries: 1 });
    assert.deepEqual(invalid(report), []);
  });

  it('judge-questions.yaml: labelled, pass with a judge that agrees, infra errors without one', async () => {
    const tasks = loadTaskFile(example('judge-questions.yaml'));
    assert.ok(tasks.length >= 3);
    for (const task of tasks) {
      assert.ok(task.tags.labels.includes(NEEDS_JUDGE), task.id);
      assert.deepEqual(qaSelfCheck(task), [], task.id);
      const answer = task.golden.answer ?? null;
      const messages = chat(task, [[answer ?? '']]);
      assert.ok((await grade(task, { answer, messages, judge: async () => 'YES\nMeets the rubric.' })).passed, task.id);
      assert.ok(!(await grade(task, { answer, messages, judge: async () => 'NO\nIt does not.' })).passed, task.id);
      await assert.rejects(grade(task, { answer, messages }), (error: unknown) => error instanceof InfraError && /--judge SPEC/.test(error.message));
    }
  });
});
