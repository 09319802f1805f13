import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getEnvironment, instantiate } from '../../envs/index.ts';
import { EpisodeFailure, EpisodeStateError, OpenEnvEpisode, taskCatalog } from './episode.ts';
import type { Observation, StepResult } from './protocol.ts';
import { probeEnv, probeTasks } from './test-env.ts';

const signal = new AbortController().signal;

function probeEpisode(now?: () => number): OpenEnvEpisode {
  return new OpenEnvEpisode({ environment: instantiate(probeEnv), catalog: taskCatalog(probeTasks), ...(now ? { now } : {}) });
}

function callObservation(result: StepResult): Extract<Observation, { kind: 'call_tool' }> {
  assert.equal(result.observation.kind, 'call_tool');
  return result.observation as Extract<Observation, { kind: 'call_tool' }>;
}

const mail = getEnvironment('mail');
const mailCatalog = taskCatalog(mail.tasks());

describe('OpenEnv episode over mail', () => {
  it('earns reward 1 on every task by replaying its golden calls as call_tool actions and submitting its answer', async () => {
    for (const task of mailCatalog.tasks) {
      const episode = new OpenEnvEpisode({ environment: instantiate(mail), catalog: mailCatalog });
      try {
        await episode.reset({ task_id: task.id, seed: 1 });
        let last: StepResult | undefined;
        for (const step of task.golden.steps) {
          assert.equal(last?.done ?? false, false, `${task.id}: the episode ended before its golden steps did`);
          last = await episode.step({ type: 'call_tool', tool_name: step.tool, arguments: step.arguments }, { signal });
        }
        if (!last?.done) last = await episode.step({ type: 'submit', answer: task.golden.answer ?? null }, { signal });
        assert.equal(last.done, true, task.id);
        assert.equal(last.reward, 1, `${task.id}: ${JSON.stringify(last.observation)}`);
      } finally {
        await episode.close();
      }
    }
  });

  it('earns reward 0 on every task when the agent submits without doing anything', async () => {
    for (const task of mailCatalog.tasks) {
      const episode = new OpenEnvEpisode({ environment: instantiate(mail), catalog: mailCatalog });
      try {
        await episode.reset({ task_id: task.id, seed: 1 });
        const ended = await episode.step({ type: 'submit' }, { signal });
        assert.equal(ended.done, true);
        assert.equal(ended.reward, 0, task.id);
        const end = (ended.observation as Extract<Observation, { kind: 'submit' }>).episode_end;
        assert.ok(end && end.checks.some((c) => !c.passed), `${task.id}: a failed check is named`);
      } finally {
        await episode.close();
      }
    }
  });
});

describe('OpenEnv episode mapping', () => {
  it('maps each tool outcome to a CallToolObservation with the matching error_type', async () => {
    const episode = probeEpisode();
    await episode.reset({ task_id: 'probe/two' });
    const echo = callObservation(await episode.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'hi' } }, { signal }));
    assert.deepEqual(echo.result, { content: 'hi', data: { text: 'hi' } });
    assert.equal(echo.error, null);
    const cases: [string, Record<string, unknown>, string][] = [
      ['fail', {}, 'execution_error'],
      ['flaky', {}, 'execution_error'],
      ['nope', {}, 'tool_not_found'],
      ['echo', { text: 5 }, 'invalid_args'],
    ];
    for (const [tool, args, errorType] of cases) {
      const observation = callObservation(await episode.step({ type: 'call_tool', tool_name: tool, arguments: args }, { signal }));
      assert.equal(observation.result, null, tool);
      assert.equal(observation.error?.error_type, errorType, tool);
      assert.ok(observation.error.message.length > 0);
    }
    assert.equal(episode.state().turns, 5);
    await episode.close();
  });

  it('renames tools that carry an OpenEnv control word and routes the new name to the original tool', async () => {
    const episode = probeEpisode();
    const reset = await episode.reset({});
    const names = reset.observation.kind === 'reset' ? reset.observation.tools.map((t) => t.name) : [];
    assert.ok(names.includes('reset_tool') && !names.includes('reset'), names.join(','));
    const ran = callObservation(await episode.step({ type: 'call_tool', tool_name: 'reset_tool', arguments: {} }, { signal }));
    assert.equal(ran.result?.content, 'reset tool ran');
    await episode.close();
  });

  it('judges the final state when max_turns runs out, with no answer, as gauntlet run does, then refuses further steps', async () => {
    const episode = probeEpisode();
    await episode.reset({ task_id: 'probe/one' });
    for (let i = 0; i < 2; i++) assert.equal((await episode.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'x' } }, { signal })).done, false);
    const last = await episode.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'x' } }, { signal });
    assert.equal(last.done, true);
    assert.equal(callObservation(last).result?.content, 'x', 'the last call still ran and is reported');
    // The verdict and the reward terms, in the shape an answered episode ends with: no answer, so the answer check fails.
    assert.deepEqual(callObservation(last).episode_end, {
      termination_reason: 'max_turns',
      answer: null,
      passed: false,
      verifier_score: 0,
      checks: [{ name: 'answer_is', kind: 'outcome', passed: false, detail: 'answer null' }],
      reward_terms: [
        { name: 'outcome', value: 0, weight: 1, source: 'verifier' },
        { name: 'verifier_checks', value: 0, weight: 0, source: 'verifier' },
      ],
    });
    assert.equal(last.reward, 0);
    await assert.rejects(episode.step({ type: 'submit', answer: 'one' }, { signal }), EpisodeStateError);
    assert.equal(episode.state().termination_reason, 'max_turns');
    await episode.close();
  });

  it('ends the episode at the task deadline without running the late action, judging the state the deadline left', async () => {
    let now = 1_000;
    const episode = probeEpisode(() => now);
    await episode.reset({ task_id: 'probe/two' });
    now += 60_000;
    const late = callObservation(await episode.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'late' } }, { signal }));
    assert.equal(late.result, null);
    assert.equal(late.error?.error_type, 'timeout');
    assert.equal(late.episode_end?.termination_reason, 'deadline');
    assert.deepEqual(late.episode_end?.checks.map((c) => [c.name, c.passed]), [['answer_is', false]]);
    // The late action is the agent's turn, as the agent loop counts a model turn its deadline cut short.
    assert.deepEqual([episode.state().done, episode.state().turns], [true, 1]);
    await episode.close();
  });

  it('gives reward 1 for the right answer, by submit action and by a submitting tool', async () => {
    const byAction = probeEpisode();
    await byAction.reset({ task_id: 'probe/one' });
    const answered = await byAction.step({ type: 'submit', answer: 'one' }, { signal });
    assert.deepEqual([answered.done, answered.reward], [true, 1]);
    await byAction.close();
    const byTool = probeEpisode();
    await byTool.reset({ task_id: 'probe/two' });
    const submitted = await byTool.step({ type: 'call_tool', tool_name: 'submit', arguments: { answer: 'two' } }, { signal });
    assert.deepEqual([submitted.done, submitted.reward, callObservation(submitted).episode_end?.termination_reason], [true, 1, 'submitted']);
    await byTool.close();
  });

  it('turns an infrastructure failure into an EpisodeFailure, never a reward, and stops the episode', async () => {
    const episode = probeEpisode();
    await episode.reset({ task_id: 'probe/two' });
    const failure = await episode.step({ type: 'call_tool', tool_name: 'crash', arguments: {} }, { signal }).then(
      () => assert.fail('a crashed backend must not produce an observation'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EpisodeFailure);
    assert.equal(failure.failure, 'infra');
    assert.match(failure.message, /probe backend unreachable/);
    await assert.rejects(episode.step({ type: 'submit', answer: 'two' }, { signal }), /stopped by a failure/);
    assert.equal(episode.state().done, false);
    await episode.close();
  });

  it('reports a call that outlives timeout_s as a timeout error, with the episode going on', async () => {
    const episode = probeEpisode();
    await episode.reset({ task_id: 'probe/two' });
    const slow = callObservation(await episode.step({ type: 'call_tool', tool_name: 'wait', arguments: {} }, { signal, timeoutMs: 20 }));
    assert.equal(slow.error?.error_type, 'timeout');
    assert.equal(episode.state().done, false);
    await episode.close();
  });

  it('lists tools before any reset and refuses other actions until one', async () => {
    const episode = probeEpisode();
    const listed = await episode.step({ type: 'list_tools' }, { signal });
    assert.equal(listed.observation.kind, 'list_tools');
    assert.ok(listed.observation.kind === 'list_tools' && listed.observation.tools.some((t) => t.name === 'echo' && t.input_schema.type === 'object'));
    await assert.rejects(episode.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'x' } }, { signal }), /send reset first/);
    assert.deepEqual(episode.state(), { episode_id: null, step_count: 0, task_id: null, turns: 0, max_turns: null, done: false, termination_reason: null });
    await episode.close();
  });

  it('picks the task by id, by seed (the same every time) or the first one', () => {
    const episode = probeEpisode();
    assert.equal(episode.pickTask({}).id, 'probe/one');
    assert.equal(episode.pickTask({ task_id: 'probe/two' }).id, 'probe/two');
    const picks = Array.from({ length: 40 }, (_, seed) => episode.pickTask({ seed }).id);
    assert.deepEqual(picks, Array.from({ length: 40 }, (_, seed) => episode.pickTask({ seed }).id));
    assert.deepEqual(new Set(picks), new Set(['probe/one', 'probe/two']));
    const unknown = taskCatalog(probeTasks).resetData.safeParse({ task_id: 'probe/none' });
    assert.equal(unknown.success, false);
    assert.deepEqual(unknown.error?.issues[0]?.path, ['task_id']);
  });
});
