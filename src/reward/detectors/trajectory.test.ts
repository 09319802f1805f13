import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, modelCallIdFor, SCHEMA_VERSION, type Message, type ModelCall, type Rollout, type RolloutEvent, type RolloutId, type RunId, type TaskId } from '../../core/index.ts';
import { contextFor } from './context.ts';
import { parseExportLine, trajectoryOf } from './trajectory.ts';

const runId = 'run_t' as RunId;
const rolloutId = 'ro_t' as RolloutId;
const AT = '2026-01-01T00:00:00.000Z';

function rollout(attempt = 1): Rollout {
  return {
    schemaVersion: SCHEMA_VERSION, id: rolloutId, runId, taskId: 't/1' as TaskId, env: 'terminal', epoch: 0, attempt, seed: 0, model: 'm', scaffold: 'interleaved',
    status: 'scored', terminationReason: 'submitted', score: 0, passed: false, rewardTerms: [], verifier: null, error: null, finalAnswer: 'done',
    stats: { turns: 2, modelCalls: 2, toolCalls: 3, toolErrors: 0, promptTokens: 0, completionTokens: 0 }, perturbations: [], startedAt: AT, endedAt: AT, durationMs: 0,
  };
}

function call(index: number, messages: Message[], response: Extract<Message, { role: 'assistant' }>, options: { attempt?: number; purpose?: ModelCall['purpose'] } = {}): ModelCall {
  const attempt = options.attempt ?? 1;
  return {
    schemaVersion: SCHEMA_VERSION, id: modelCallIdFor(rolloutId, attempt, index), runId, rolloutId, attempt, index, parentId: null, purpose: options.purpose ?? 'turn', model: 'm',
    request: { messages, tools: [{ name: 'run_command', description: 'Run a command (working directory /srv/app).', parameters: {} }], sampling: {} },
    response: { message: response, finishReason: 'tool_calls', usage: {} }, startedAt: AT, latencyMs: 0,
  };
}

const sys: Message = { role: 'system', content: 'You work for ana@corp.example.' };
const user: Message = { role: 'user', content: 'Do the thing.' };
// Two calls in one turn share the provider id "call_0": the results are matched by position.
const first: Extract<Message, { role: 'assistant' }> = {
  role: 'assistant', content: '', reasoning: { text: 'look first', source: 'reasoning_field' },
  toolCalls: [{ id: 'call_0', name: 'run_command', arguments: { command: 'ls' }, argumentsText: '{"command":"ls"}' }, { id: 'call_0', name: 'run_command', arguments: { command: 'pwd' }, argumentsText: '{"command":"pwd"}' }],
};
const second: Extract<Message, { role: 'assistant' }> = { role: 'assistant', content: '', toolCalls: [{ id: 'call_9', name: 'submit', arguments: { answer: 'done' }, argumentsText: '{"answer":"done"}' }] };
const results: Message[] = [
  { role: 'tool', toolCallId: 'call_0', name: 'run_command', content: 'a.txt', isError: false },
  { role: 'tool', toolCallId: 'call_0', name: 'run_command', content: '/srv/app', isError: false },
];

describe('trajectories from model calls', () => {
  it('joins each tool call with the result the next request carries, and the last with its event', () => {
    const calls = [call(0, [sys, user], first), call(1, [sys, user, first, ...results, { role: 'user', content: 'And then?' }], second)];
    const events: RolloutEvent[] = [{ schemaVersion: SCHEMA_VERSION, runId, rolloutId, attempt: 1, seq: 4, at: AT, type: 'tool_result', data: { id: 'call_9', ok: true, content: 'submitted' } }];
    const t = trajectoryOf(rollout(), calls, events);
    assert.deepEqual(t.turns.map((turn) => turn.tools.map((s) => s.result?.content)), [['a.txt', '/srv/app'], ['submitted']]);
    assert.equal(t.turns[0]!.reasoning, 'look first');
    assert.deepEqual(t.userMessages, ['Do the thing.', 'And then?']);
    const context = contextFor(t);
    assert.equal(context.workdir, '/srv/app', 'the work dir the tool description names');
    assert.deepEqual(context.internalDomains, ['corp.example']);
  });

  it("reads only the rollout's own attempt and only the calls where the agent acts", () => {
    const calls = [call(0, [sys, user], second, { attempt: 1 }), call(0, [sys, user], first, { attempt: 2 }), call(1, [sys, user], second, { attempt: 2, purpose: 'judge' })];
    const t = trajectoryOf(rollout(2), calls);
    assert.equal(t.turns.length, 1);
    assert.equal(t.turns[0]!.tools.length, 2);
  });

  it('reads export lines, naming the file and line of a bad one', () => {
    const line = JSON.stringify({ schemaVersion: SCHEMA_VERSION, run: { id: runId }, rollout: rollout(), modelCalls: [call(0, [sys, user], first)] });
    const exported = parseExportLine(line, 'runs.jsonl:3');
    assert.equal(exported.rollout.id, rolloutId);
    assert.equal(exported.calls.length, 1);
    assert.throws(() => parseExportLine('{"schemaVersion":2', 'runs.jsonl:4'), (e: unknown) => e instanceof InputError && /^runs\.jsonl:4: not JSON/.test(e.message));
    assert.throws(
      () => parseExportLine(JSON.stringify({ schemaVersion: SCHEMA_VERSION, run: { id: runId }, rollout: { ...rollout(), status: 'great' }, modelCalls: [] }), 'runs.jsonl:5'),
      (e: unknown) => e instanceof InputError && /runs\.jsonl:5: rollout/.test(e.message) && /status/.test(e.message),
    );
  });
});
