import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutId, RunId } from '../core/index.ts';
import { instantiate } from '../envs/index.ts';
import { counterEnv, counterTasks } from '../../test/support/counter-env.ts';
import { assistant, functionModel, reply } from '../../test/support/models.ts';
import { runAgent } from './loop.ts';
import { memoryRecorder } from '../core/index.ts';

const identity = { runId: 'run_x' as RunId, rolloutId: 'ro_x' as RolloutId, attempt: 1 };
const task = counterTasks[0]!;

/** Increments counter a on every turn until turn `stopAt`, then answers; answers summaries when asked. */
const busy = (stopAt: number) =>
  functionModel('test:busy', (_i, request) => {
    if (request.messages[0]?.content.startsWith('Summarise')) return reply(assistant({ content: 'Incremented a several times so far.' }));
    const turns = request.messages.filter((m) => m.role === 'assistant').length;
    if (turns >= stopAt || request.messages.some((m) => m.role === 'user' && m.content.startsWith('Summary'))) return reply(assistant({ content: 'done' }));
    return reply(assistant({ reasoning: { text: 'x'.repeat(400), source: 'reasoning_field' }, toolCalls: [{ id: `c${turns}`, name: 'increment', arguments: { id: 'a' }, argumentsText: '{"id":"a"}' }] }));
  });

describe('agent loop', () => {
  it('stops at max turns and counts what happened', async () => {
    const env = instantiate(counterEnv);
    await env.reset(task, { seed: 1 });
    const recorder = memoryRecorder();
    const result = await runAgent({ task, environment: env, model: busy(100), recorder, identity, settings: { maxTurns: 4, deadlineAt: Date.now() + 10_000 } });
    assert.equal(result.terminationReason, 'max_turns');
    assert.deepEqual({ turns: result.stats.turns, toolCalls: result.stats.toolCalls, modelCalls: result.stats.modelCalls }, { turns: 4, toolCalls: 4, modelCalls: 4 });
    assert.deepEqual(recorder.calls.map((c) => c.index), [0, 1, 2, 3]);
    assert.deepEqual(recorder.calls.map((c) => c.parentId), [null, recorder.calls[0]!.id, recorder.calls[1]!.id, recorder.calls[2]!.id]);
  });

  it('compacts an outgrown context as a recorded summary call that the next turn descends from', async () => {
    const env = instantiate(counterEnv);
    await env.reset(task, { seed: 1 });
    const recorder = memoryRecorder();
    const result = await runAgent({
      task,
      environment: env,
      model: busy(100),
      recorder,
      identity,
      settings: { maxTurns: 20, deadlineAt: Date.now() + 10_000, context: { budgetTokens: 400, keepRecentTurns: 1 } },
    });
    assert.equal(result.terminationReason, 'answered');
    const summary = recorder.calls.find((c) => c.purpose === 'summary');
    assert.ok(summary, 'a summary call was recorded');
    const next = recorder.calls[recorder.calls.indexOf(summary) + 1]!;
    assert.equal(next.parentId, summary.id);
    assert.ok(next.request.messages.some((m) => m.role === 'user' && m.content.includes('Incremented a several times')));
    const event = recorder.events.find((e) => e.type === 'context_compacted');
    assert.ok(event?.type === 'context_compacted' && event.data.summaryCallId === summary.id);
  });

  it('is off by default, and a task context limit then ends the rollout as context_limit', async () => {
    const env = instantiate(counterEnv);
    const tight = { ...task, limits: { ...task.limits, contextTokens: 300 } };
    await env.reset(tight, { seed: 1 });
    const recorder = memoryRecorder();
    const result = await runAgent({ task: tight, environment: env, model: busy(100), recorder, identity, settings: { maxTurns: 20, deadlineAt: Date.now() + 10_000 } });
    assert.equal(result.terminationReason, 'context_limit');
    assert.equal(recorder.calls.filter((c) => c.purpose === 'summary').length, 0);
  });

  it('returns unknown tools and bad arguments to the model as tool errors', async () => {
    const env = instantiate(counterEnv);
    await env.reset(task, { seed: 1 });
    const model = functionModel('test:sloppy', (i) =>
      i === 0
        ? reply(assistant({ toolCalls: [{ id: 'u', name: 'teleport', arguments: {}, argumentsText: '{}' }, { id: 'v', name: 'increment', arguments: { id: 7 }, argumentsText: '{"id":7}' }] }))
        : reply(assistant({ content: 'gave up' })),
    );
    const result = await runAgent({ task, environment: env, model, recorder: memoryRecorder(), identity, settings: { maxTurns: 5, deadlineAt: Date.now() + 10_000 } });
    const toolReplies = result.history.filter((m) => m.role === 'tool');
    assert.equal(toolReplies.length, 2);
    assert.ok(toolReplies.every((m) => m.role === 'tool' && m.isError));
    assert.match(toolReplies[0]!.content, /unknown tool "teleport"/);
    assert.match(toolReplies[1]!.content, /invalid arguments for increment/);
    assert.equal(result.stats.toolErrors, 2);
  });

  it('keeps a deadline weeks away instead of letting its timer overflow and fire at once', async () => {
    const env = instantiate(counterEnv);
    await env.reset(task, { seed: 1 });
    // An overflowed timer is armed as a 1 ms one; a 1 ms timer armed after it (by this model, once
    // the loop has armed its deadline) fires after it, by Node's timer order, whatever the load.
    const slow = functionModel('test:slow', (_i, _request, signal) => new Promise((resolve) => {
      const timer = setTimeout(() => resolve(reply(assistant({ content: 'done' }))), 1);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false }); }, { once: true });
    }));
    const result = await runAgent({ task, environment: env, model: slow, recorder: memoryRecorder(), identity, settings: { maxTurns: 2, deadlineAt: Date.now() + 40 * 24 * 3_600_000 } });
    assert.equal(result.terminationReason, 'answered');
  });

  it("ends the rollout's signal with it, so a listener a tool left behind is neither kept nor left waiting", async () => {
    const env = instantiate(counterEnv);
    await env.reset(task, { seed: 1 });
    let seen: AbortSignal | undefined;
    const leaky = { ...env, tools: () => env.tools(), call: (name: string, args: unknown, options: { signal: AbortSignal }) => {
      seen = options.signal;
      options.signal.addEventListener('abort', () => undefined); // never removed
      return env.call(name, args, options);
    } };
    const run = new AbortController();
    const result = await runAgent({ task, environment: leaky as typeof env, model: busy(2), recorder: memoryRecorder(), identity, signal: run.signal, settings: { maxTurns: 5, deadlineAt: Date.now() + 10_000 } });
    assert.equal(result.terminationReason, 'answered');
    assert.equal(seen?.aborted, true);
    assert.equal(run.signal.aborted, false, "the run's own signal is untouched");
  });
});
