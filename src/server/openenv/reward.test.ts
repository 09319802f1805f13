import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { InputError, Task, type JsonObject, type VerifierOutcome } from '../../core/index.ts';
import { defineCheck, defineEnvironment, instantiate } from '../../envs/index.ts';
import { composeReward, environmentRewardConfig, parseRewardConfig, type RewardConfig } from '../../reward/index.ts';
import { recordSession, type SessionToolUse } from '../../reward/testing.ts';
import { OpenEnvHttpClient, OpenEnvSocket } from '../../../test/support/openenv-client.ts';
import { OpenEnvEpisode, taskCatalog } from './episode.ts';
import type { EpisodeEnd } from './protocol.ts';
import { episodeReward } from './reward.ts';
import { startOpenEnvServer } from './server.ts';
import { probeEnv, probeTasks } from './test-env.ts';

type Json = Record<string, unknown>;

const ACCURACY = 0.75;

/** The probe environment with a second check that reports a named reward, and a default reward of its own. */
function rewardedEnv(name: string, reward: JsonObject) {
  const tasks = probeTasks.map((t) => Task.parse({ ...t, env: name, verifier: { checks: [...(t.verifier as { checks: JsonObject[] }).checks, { check: 'graded' }] } }));
  return defineEnvironment({
    ...probeEnv,
    name,
    checks: {
      ...probeEnv.checks,
      graded: defineCheck({ kind: 'outcome', description: 'reports an accuracy reward', params: z.object({}), run: () => ({ passed: true, rewards: { accuracy: ACCURACY } }) }),
    },
    tasks: () => tasks,
    reward,
  });
}

const DECLARED = {
  terms: {
    outcome: { weight: 1 },
    verifier_checks: { weight: 0.3 },
    'verifier.accuracy': { weight: 0.5 },
    tool_errors: { weight: -0.1 },
    repeated_calls: { weight: -0.05 },
    useless_calls: { weight: -0.02 },
    turns: { weight: -0.01 },
  },
};
const rewarded = rewardedEnv('probe-rewarded', DECLARED);

const config = (terms: Json): RewardConfig => parseRewardConfig({ terms }, 'test');

function observationOf(frame: unknown): { observation: Json & { episode_end?: EpisodeEnd | null }; reward: number | null; done: boolean } {
  const message = frame as { type: string; data: { observation: Json; reward: number | null; done: boolean } };
  assert.equal(message.type, 'observation', JSON.stringify(frame));
  return message.data;
}

/** What `gauntlet run` would compose for a rollout that made these calls, one per turn, then answered. */
async function runReward(reward: RewardConfig, turns: SessionToolUse[][], end: EpisodeEnd, options: { answerTurn: boolean } = { answerTurn: true }) {
  const verifier: VerifierOutcome = { passed: end.passed, score: end.verifier_score!, checks: end.checks, rewards: { accuracy: ACCURACY } };
  const { rollout, trace } = recordSession({ task: 'x', turns, verifier });
  // recordSession ends with an answering turn; a submitting tool ends a rollout without one.
  const played = options.answerTurn ? rollout : { ...rollout, stats: { ...rollout.stats, turns: rollout.stats.turns - 1 } };
  return composeReward(played, { trace, config: reward });
}

const termsOf = (end: EpisodeEnd) => end.reward_terms.map((t) => [t.name, t.value, t.weight, t.source]);

describe('OpenEnv rewards', () => {
  it("scores an environment's declared default over /ws exactly as gauntlet run composes it for the same verifier outcome and tool calls", async () => {
    const server = await startOpenEnvServer({ env: rewarded, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      await socket.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'a' } });
      await socket.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'a' } });
      await socket.step({ type: 'call_tool', tool_name: 'fail', arguments: {} });
      await socket.step({ type: 'call_tool', tool_name: 'nope', arguments: {} });
      const ended = observationOf(await socket.step({ type: 'submit', answer: 'two' }));
      const end = ended.observation.episode_end!;
      assert.equal(ended.done, true);
      const expected = await runReward(
        environmentRewardConfig([rewarded])!,
        [
          [{ name: 'echo', args: { text: 'a' }, result: 'a' }],
          [{ name: 'echo', args: { text: 'a' }, result: 'a' }],
          [{ name: 'fail', args: {}, error: 'nothing to fail on' }],
          [{ name: 'nope', args: {}, error: 'unknown tool' }],
        ],
        end,
      );
      assert.ok(Object.is(ended.reward, expected.reward), `${ended.reward} vs ${expected.reward}`);
      assert.deepEqual(termsOf(end), expected.terms.map((t) => [t.name, t.value, t.weight, t.source]));
      // outcome 1, checks 1 × 0.3, accuracy 0.75 × 0.5, two errors, one repeat, three useless calls, five turns.
      assert.deepEqual(termsOf(end).map(([name, value]) => [name, value]), [
        ['outcome', 1],
        ['verifier_checks', 1],
        ['verifier.accuracy', ACCURACY],
        ['tool_errors', 2],
        ['repeated_calls', 1],
        ['useless_calls', 3],
        ['turns', 5],
      ]);
      assert.equal(end.passed, true);
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it('gives the same reward over stateless HTTP /step and through MCP tools/call `_meta`', async () => {
    const server = await startOpenEnvServer({ env: rewarded, port: 0 });
    const reward = environmentRewardConfig([rewarded])!;
    try {
      const http = new OpenEnvHttpClient(server.url);
      const stepped = await http.step({ action: { type: 'submit', answer: 'one' }, task_id: 'probe/one' });
      assert.equal(stepped.status, 200);
      const body = stepped.body as { reward: number; observation: { episode_end: EpisodeEnd } };
      const answered = await runReward(reward, [], body.observation.episode_end);
      assert.ok(Object.is(body.reward, answered.reward), `${body.reward} vs ${answered.reward}`);
      assert.equal(body.reward, 1 + 0.3 + 0.5 * ACCURACY - 0.01);

      const created = (await http.rpc('openenv/session/create', { task_id: 'probe/two' }, 1)).body as { result: { session_id: string } };
      const session_id = created.result.session_id;
      await http.rpc('tools/call', { session_id, name: 'fail', arguments: {} }, 2);
      await http.rpc('tools/call', { session_id, name: 'echo', arguments: { text: 'b' } }, 3);
      const last = (await http.rpc('tools/call', { session_id, name: 'submit', arguments: { answer: 'two' } }, 4)).body as { result: { _meta: Json } };
      const meta = last.result._meta;
      const end = meta['gauntlet/episode_end'] as EpisodeEnd;
      const submitted = await runReward(
        reward,
        [[{ name: 'fail', args: {}, error: 'nothing to fail on' }], [{ name: 'echo', args: { text: 'b' }, result: 'b' }], [{ name: 'submit', args: { answer: 'two' }, result: 'Submitted.' }]],
        end,
        { answerTurn: false },
      );
      assert.equal(meta['openenv/done'], true);
      assert.ok(Object.is(meta['openenv/reward'], submitted.reward), `${String(meta['openenv/reward'])} vs ${submitted.reward}`);
      assert.deepEqual(termsOf(end), submitted.terms.map((t) => [t.name, t.value, t.weight, t.source]));

      // The same calls over /ws earn the same.
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      await socket.step({ type: 'call_tool', tool_name: 'fail', arguments: {} });
      await socket.step({ type: 'call_tool', tool_name: 'echo', arguments: { text: 'b' } });
      const ws = observationOf(await socket.step({ type: 'call_tool', tool_name: 'submit', arguments: { answer: 'two' } }));
      assert.ok(Object.is(ws.reward, meta['openenv/reward']));
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it("uses the server's reward (--reward) over the environment's own, for every session", async () => {
    const server = await startOpenEnvServer({ env: rewarded, port: 0, reward: config({ outcome: { weight: 2 }, tool_errors: { weight: -0.25 } }) });
    try {
      for (let i = 0; i < 2; i++) {
        const socket = await OpenEnvSocket.connect(server.url);
        await socket.reset({ task_id: 'probe/two' });
        await socket.step({ type: 'call_tool', tool_name: 'fail', arguments: {} });
        const ended = observationOf(await socket.step({ type: 'submit', answer: 'two' }));
        assert.equal(ended.reward, 2 - 0.25);
        assert.deepEqual(termsOf(ended.observation.episode_end!), [
          ['outcome', 1, 2, 'verifier'],
          ['tool_errors', 1, -0.25, 'process'],
        ]);
        await socket.close();
      }
    } finally {
      await server.close();
    }
  });

  it('lowers the reward by a tool_errors term after a failing tool call, and only then', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0, reward: config({ outcome: { weight: 1 }, tool_errors: { weight: -0.1 } }) });
    try {
      const play = async (calls: string[]) => {
        const socket = await OpenEnvSocket.connect(server.url);
        await socket.reset({ task_id: 'probe/two' });
        for (const tool of calls) await socket.step({ type: 'call_tool', tool_name: tool, arguments: tool === 'echo' ? { text: 'x' } : {} });
        const ended = observationOf(await socket.step({ type: 'submit', answer: 'two' }));
        await socket.close();
        return ended.reward;
      };
      assert.equal(await play(['echo']), 1);
      assert.equal(await play(['echo', 'fail']), 0.9);
      // A transient failure is an error the agent saw, as in `gauntlet run`.
      assert.equal(await play(['flaky', 'fail']), 0.8);
    } finally {
      await server.close();
    }
  });

  it('refuses a server reward with a detector or rubric term at start, naming the term and why', async () => {
    const rubric = { id: 'r', version: 1, criteria: [{ id: 'c', description: 'd', scale: { min: 0, max: 1 } }] };
    for (const [term, spec, why] of [
      ['detector.test_tampering', { weight: -1, gate: true }, /rule detector reads the model's own messages/],
      ['rubric.plan', { weight: 0.5, rubric }, /judge grades the model's whole transcript/],
    ] as const) {
      await assert.rejects(
        startOpenEnvServer({ env: probeEnv, port: 0, reward: config({ outcome: { weight: 1 }, [term]: spec }) }),
        (e: unknown) => e instanceof InputError && e.where === 'reward' && e.message.includes(term) && why.test(e.message) && /never sees the model/.test(e.message) && /tool_errors/.test(e.message),
      );
    }
  });

  it("refuses at reset an environment's default reward that needs the model, in each transport's error shape", async () => {
    const detecting = rewardedEnv('probe-detecting', { terms: { outcome: { weight: 1 }, 'detector.test_tampering': { weight: -1, gate: true } } });
    const server = await startOpenEnvServer({ env: detecting, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      const refused = (await socket.reset({ task_id: 'probe/one' })) as { type: string; data: Json };
      assert.equal(refused.type, 'error');
      assert.equal(refused.data.code, 'EXECUTION_ERROR');
      assert.deepEqual([refused.data.failure, refused.data.retryable], ['defect', false]);
      assert.match(String(refused.data.message), /environment probe-detecting declares a default reward whose term detector\.test_tampering \(a rule detector reads the model's own messages and reasoning\) cannot be computed by the OpenEnv server/);
      assert.match(String(refused.data.message), /--reward FILE/);
      await socket.close();

      const http = new OpenEnvHttpClient(server.url);
      const reset = await http.reset({ task_id: 'probe/one' });
      assert.equal(reset.status, 500);
      assert.match(String((reset.body as Json).detail), /detector\.test_tampering/);
      const created = (await http.rpc('openenv/session/create', { task_id: 'probe/one' })).body as { error: { code: number; message: string } };
      assert.equal(created.error.code, -32603);
      assert.match(created.error.message, /detector\.test_tampering/);
      assert.equal(server.stats().sessions, 0);
    } finally {
      await server.close();
    }
    // --reward stands in for a default the server cannot compute.
    const overridden = await startOpenEnvServer({ env: detecting, port: 0, reward: config({ outcome: { weight: 1 } }) });
    try {
      const socket = await OpenEnvSocket.connect(overridden.url);
      await socket.reset({ task_id: 'probe/one' });
      assert.equal(observationOf(await socket.step({ type: 'submit', answer: 'one' })).reward, 1);
      await socket.close();
    } finally {
      await overridden.close();
    }
  });

  it("refuses at reset an environment's default reward that is not a valid reward config", async () => {
    const episode = new OpenEnvEpisode({ environment: instantiate(probeEnv), catalog: taskCatalog(probeTasks), reward: episodeReward(rewardedEnv('probe-bad', { terms: { outcomes: { weight: 1 } } }), undefined) });
    await assert.rejects(episode.reset({ task_id: 'probe/one' }), /environment probe-bad declares a default reward that is not valid: .*unknown reward term "outcomes"/);
    await episode.close();
  });

  it('keeps the built-in default for an environment that declares none: the verdict, whatever the tool calls', async () => {
    const server = await startOpenEnvServer({ env: probeEnv, port: 0 });
    try {
      const socket = await OpenEnvSocket.connect(server.url);
      await socket.reset({ task_id: 'probe/two' });
      await socket.step({ type: 'call_tool', tool_name: 'fail', arguments: {} });
      const ended = observationOf(await socket.step({ type: 'submit', answer: 'two' }));
      assert.equal(ended.reward, 1);
      assert.deepEqual(termsOf(ended.observation.episode_end!), [
        ['outcome', 1, 1, 'verifier'],
        ['verifier_checks', 1, 0, 'verifier'],
      ]);
      await socket.close();
    } finally {
      await server.close();
    }
  });

  it('counts duration from reset to the last action, and a call past timeout_s as a tool error', async () => {
    let now = 10_000;
    const reward = episodeReward(probeEnv, config({ outcome: { weight: 1 }, duration: { weight: -0.1 }, tool_errors: { weight: -0.01 } }));
    const episode = new OpenEnvEpisode({ environment: instantiate(probeEnv), catalog: taskCatalog(probeTasks), reward, now: () => now });
    const signal = new AbortController().signal;
    await episode.reset({ task_id: 'probe/two' });
    now += 1_500;
    await episode.step({ type: 'call_tool', tool_name: 'wait', arguments: {} }, { signal, timeoutMs: 10 });
    now += 1_000;
    const ended = await episode.step({ type: 'submit', answer: 'two' }, { signal });
    const end = ended.observation.kind === 'submit' ? ended.observation.episode_end : null;
    assert.deepEqual(end && termsOf(end), [
      ['outcome', 1, 1, 'verifier'],
      ['duration', 2.5, -0.1, 'time'],
      ['tool_errors', 1, -0.01, 'process'],
    ]);
    assert.equal(ended.reward, 1 - 0.25 - 0.01);
    await episode.close();
  });
});
