import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { counterEnv, counterTasks } from '../../test/support/counter-env.ts';
import { assistant, functionModel, goldenModel, reply } from '../../test/support/models.ts';
import { executeRun } from './run.ts';

const config = (over: Partial<RunConfig> = {}): RunConfig =>
  RunConfig.parse({ envs: ['counter'], model: 'test', epochs: 2, concurrency: 4, seed: 7, ...over });
const base = { tasks: () => counterTasks, environment: () => counterEnv, sleep: async () => {} };

describe('runner', () => {
  it('runs every task for every epoch and scores the golden model as passing', async () => {
    const store = openStore(':memory:');
    const summary = await executeRun({ ...base, store, model: goldenModel, config: config() });
    assert.equal(summary.rollouts, 6);
    assert.equal(summary.scored, 6);
    assert.equal(summary.passRate, 1);
    assert.equal(summary.terminationReasons.answered, 6);
    const rollouts = store.rollouts(summary.runId);
    assert.equal(new Set(rollouts.map((r) => r.id)).size, 6);
    const calls = store.modelCalls(rollouts[0]!.id);
    assert.equal(calls.length, 3);
    // The stored request is rebuilt exactly from its delta: call 3 saw both earlier assistant turns.
    assert.equal(calls[2]!.request.messages.filter((m) => m.role === 'assistant').length, 2);
    assert.equal(calls[2]!.request.messages[2]!.role, 'assistant');
    assert.equal(calls[1]!.parentId, calls[0]!.id);
  });

  it('scores a model that acts wrongly as failed, with the reason it stopped', async () => {
    const store = openStore(':memory:');
    const idle = functionModel('test:idle', () => reply(assistant({ content: 'I did it.' })));
    const summary = await executeRun({ ...base, store, model: idle, config: config({ epochs: 1 }) });
    assert.equal(summary.scored, 3);
    assert.equal(summary.passed, 0);
    assert.equal(summary.terminationReasons.answered, 3);
  });

  it('turns repeated malformed tool calls into invalid_output, scored 0', async () => {
    const store = openStore(':memory:');
    const broken = functionModel('test:broken', () =>
      reply(assistant({ toolCalls: [{ id: 'x', name: 'increment', arguments: null, argumentsText: '{"id": ', parseError: 'Unexpected end of JSON input' }] })),
    );
    const summary = await executeRun({ ...base, store, model: broken, config: config({ epochs: 1 }) });
    assert.equal(summary.terminationReasons.invalid_output, 3);
    assert.equal(summary.scored, 3);
    assert.equal(summary.passRate, 0);
    const rollout = store.rollouts(summary.runId)[0]!;
    const calls = store.modelCalls(rollout.id);
    const toolReply = calls[1]!.request.messages.at(-1)!;
    assert.equal(toolReply.role, 'tool');
    assert.match(toolReply.content, /could not parse the arguments/);
  });

  it('retries infra errors, then records infra_error without a score, and finishes the rest', async () => {
    const store = openStore(':memory:');
    let calls = 0;
    const flaky = functionModel('test:flaky', (i, request) => {
      const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
      if (user.includes('counter b')) {
        calls++;
        return { ok: false, kind: 'http', message: 'HTTP 500', retryable: true };
      }
      return goldenModel.complete(request, { signal: new AbortController().signal });
    });
    const summary = await executeRun({ ...base, store, model: flaky, config: config({ epochs: 1, maxAttempts: 3 }) });
    assert.equal(calls, 3);
    assert.equal(summary.infraErrors, 1);
    assert.equal(summary.scored, 2);
    assert.equal(summary.passRate, 1);
    const bad = store.rollouts(summary.runId).find((r) => r.taskId === 'counter/b')!;
    assert.equal(bad.score, null);
    assert.equal(bad.passed, null);
    assert.equal(bad.attempt, 3);
  });

  it('ends a slow model at the deadline (scored) and a hung tool by the watchdog (infra)', async () => {
    const store = openStore(':memory:');
    const slow = functionModel('test:slow', (_i, _r, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false }))));
    const summary = await executeRun({ ...base, store, model: slow, config: config({ epochs: 1, deadlineMs: 100 }) });
    assert.equal(summary.terminationReasons.deadline, 3);
    assert.equal(summary.scored, 3);

    const hanger = functionModel('test:hang', () => reply(assistant({ toolCalls: [{ id: 'h', name: 'hang', arguments: {}, argumentsText: '{}' }] })));
    const hung = await executeRun({ ...base, store, model: hanger, graceMs: 50, config: config({ epochs: 1, deadlineMs: 100, maxAttempts: 1 }) });
    assert.equal(hung.infraErrors, 3);
    assert.match(store.rollouts(hung.runId)[0]!.error!.message, /did not stop/);
  });

  it('resumes an interrupted run and ends with every rollout exactly once', async () => {
    const store = openStore(':memory:');
    const controller = new AbortController();
    let finished = 0;
    const first = await executeRun({
      ...base,
      store,
      model: goldenModel,
      config: config({ epochs: 3, concurrency: 1 }),
      signal: controller.signal,
      onProgress: (p) => {
        finished = p.done;
        if (p.done >= 4) controller.abort();
      },
    });
    assert.equal(first.status, 'interrupted');
    assert.ok(finished >= 4 && first.rollouts < 9);
    const resumed = await executeRun({ ...base, store, model: goldenModel, resume: first.runId });
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.rollouts, 9);
    assert.equal(resumed.missing, 0);
    assert.equal(new Set(store.rollouts(first.runId).map((r) => `${r.taskId}:${r.epoch}`)).size, 9);
  });

  it('continues after an answer when the environment has a follow-up user turn', async () => {
    const store = openStore(':memory:');
    const followUps = ['Also say which counter you changed.', null];
    const environment = () => ({ ...counterEnv, followUp: (_ctx: unknown, _answer: string, answered: number) => followUps[answered - 1] ?? null });
    const model = functionModel('test:chatty', (i, request) => {
      if (i < 2) return goldenModel.complete(request, { signal: new AbortController().signal });
      return reply(assistant({ content: i === 2 ? 'done' : 'counter a' }));
    });
    const summary = await executeRun({ ...base, environment, store, model, config: config({ epochs: 1, taskIds: ['counter/a'] }) });
    assert.equal(summary.passRate, 1);
    const rollout = store.rollouts(summary.runId)[0]!;
    assert.equal(rollout.finalAnswer, 'counter a');
    const last = store.modelCalls(rollout.id).at(-1)!;
    assert.equal(last.request.messages.at(-1)!.content, 'Also say which counter you changed.');
  });
});
