import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runAgent, dropThinking, interleaved, type Scaffold } from '../../agent/index.ts';
import { memoryRecorder, type AttemptIdentity, type ModelCall, type RolloutId, type RunId } from '../../core/index.ts';
import { createOpenAIChat } from '../../model/index.ts';
import { openStore } from '../../store/index.ts';
import { exportRun, resolveTarget } from '../export/index.ts';
import { toolWalkPolicy } from '../fake-engine/index.ts';
import { assembleTrajectory } from '../trajectory/index.ts';
import { gatewayBaseUrl } from './index.ts';
import { attachMemory, postJson, startStack, workspaceEnvironment, WORKSPACE_TASK, type EngineAnswer, type Stack } from './test-support.ts';

// The property the gateway exists for: an agent talking to the engine through it yields, with no
// help from the agent, the engine's own token ids for every call, merged into one training
// sequence when the agent keeps its reasoning, and a drift at the right turn, with its cause, when
// it drops it.

const TOOL_TURNS = 29;

/** Gauntlet's agent loop with its OpenAI adapter, pointed at the gateway like any external agent. */
async function playRollout(stack: Stack, identity: AttemptIdentity, scaffold: Scaffold): Promise<ModelCall[]> {
  const clientSide = memoryRecorder();
  const model = createOpenAIChat({ baseURL: gatewayBaseUrl(stack.gateway.url, identity.rolloutId), model: stack.engine.model, maxRetries: 0 });
  const result = await runAgent({
    task: WORKSPACE_TASK,
    environment: workspaceEnvironment(),
    model,
    recorder: clientSide,
    identity,
    settings: { scaffold, maxTurns: 60, deadlineAt: Date.now() + 600_000, sampling: { temperature: 0.7 } },
  });
  assert.equal(result.terminationReason, 'answered', `the rollout ended ${result.terminationReason}: ${result.infraError?.message ?? ''}`);
  return clientSide.calls;
}

describe('a 30-turn rollout through the gateway', () => {
  const store = openStore(':memory:');
  let stack: Stack;
  // Run mode for the first rollout (recorded into the store, then exported); an attached recorder for the second.
  before(async () => {
    stack = await startStack({ policy: toolWalkPolicy({ turns: TOOL_TURNS }), seed: 11 }, { store, runId: 'run_gateway_rollouts', tee: true });
  });
  after(async () => {
    await stack.close();
    store.close();
  });

  it('interleaved: one segment, zero drift, and the exported training ids are the ids the engine sampled', { timeout: 120_000 }, async () => {
    const rolloutId = 'ro_interleaved' as RolloutId;
    const clientCalls = await playRollout(stack, { runId: 'ignored' as RunId, rolloutId, attempt: 1 }, interleaved);
    assert.equal(clientCalls.length, TOOL_TURNS + 1);
    // The client got the engine's answers without the fields the gateway asked for (the adapter reads null ids as an empty list).
    for (const call of clientCalls) {
      const tokens = call.response?.tokens;
      assert.ok(!tokens?.promptIds && !tokens?.completionLogprobs && (tokens?.completionIds ?? []).length === 0, `call ${call.index}: token fields reached the client`);
    }

    const finished = await postJson(`${stack.gateway.url}/rollouts/${rolloutId}/finish`, { reward: 1, passed: true });
    assert.equal(finished.status, 200, finished.text);
    const engine: EngineAnswer[] = await Promise.all(stack.answers);
    assert.equal(engine.length, TOOL_TURNS + 1);

    const calls = store.modelCalls(rolloutId);
    assert.deepEqual(calls.map((c) => c.index), [...Array(TOOL_TURNS + 1).keys()]);
    assert.ok(calls.slice(1).every((c, i) => c.parentId === calls[i]!.id && c.extendsParent === true), 'each call continues the one before');
    assert.ok(calls.every((c, i) => c.response!.tokens!.source === 'engine' && c.response!.tokens!.completionIds!.length === engine[i]!.completionIds.length));

    const assembled = assembleTrajectory(calls);
    assert.ok(assembled.ok, assembled.ok ? '' : assembled.detail);
    assert.equal(assembled.trajectory.segments.length, 1);
    assert.deepEqual(assembled.trajectory.drift, []);
    assert.equal(assembled.trajectory.hintMismatches, 0);

    const lines: string[] = [];
    const summary = await exportRun({ store, runId: 'run_gateway_rollouts', target: resolveTarget('generic'), format: 'jsonl', output: null, stdout: (text) => void lines.push(text) });
    assert.equal(summary.rows, 1);
    const rows = lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { token_ids: number[]; loss_mask: number[]; logprobs: number[]; calls: { start: number; completion_start: number; end: number }[]; drift: unknown });
    const row = rows[0]!;
    assert.equal(row.drift, null);
    assert.equal(row.calls.length, TOOL_TURNS + 1);
    row.calls.forEach((span, i) => {
      assert.deepEqual(row.token_ids.slice(span.completion_start, span.end), engine[i]!.completionIds, `call ${i}: trained ids are the sampled ids`);
      assert.deepEqual(row.logprobs.slice(span.completion_start, span.end), engine[i]!.logprobs, `call ${i}: trained logprobs are the sampler's`);
      assert.deepEqual(row.token_ids.slice(0, span.completion_start), engine[i]!.promptIds, `call ${i}: the context is the engine's prompt`);
    });
    assert.equal(row.loss_mask.filter((m) => m === 1).length, engine.reduce((n, a) => n + a.completionIds.length, 0));
    const rollout = store.getRollout(rolloutId)!;
    assert.equal(rollout.status, 'scored');
    assert.equal(rollout.score, 1);
    assert.equal(rollout.stats.modelCalls, TOOL_TURNS + 1);
  });

  it('drop-thinking: the drift is found at turn 2 and at every turn after, each caused by dropped reasoning', { timeout: 120_000 }, async () => {
    const { identity, recorder } = attachMemory(stack.gateway, 'ro_dropped');
    await playRollout(stack, identity, dropThinking);
    const assembled = assembleTrajectory(recorder.calls);
    assert.ok(assembled.ok, assembled.ok ? '' : assembled.detail);
    const { drift, segments, hintMismatches } = assembled.trajectory;
    assert.equal(drift[0]?.turn, 2);
    assert.equal(drift[0]?.callIndex, 1);
    assert.equal(drift[0]?.messageIndex, 2, 'the first assistant message is the one that changed');
    assert.equal(drift.length, TOOL_TURNS);
    assert.ok(drift.every((d) => d.cause === 'dropped_reasoning'), JSON.stringify(drift.map((d) => d.cause)));
    assert.equal(segments.length, TOOL_TURNS + 1);
    assert.equal(hintMismatches, 0, 'extendsParent agrees with the ids');
    assert.ok(recorder.calls.slice(1).every((c) => c.extendsParent === false));
  });
});
