import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryRecorder, SCHEMA_VERSION, type AttemptRecorder, type RolloutEvent } from '../core/index.ts';
import { processCounts } from './process.ts';
import { recordSession, shell } from './testing.ts';
import { traceAttempt, traceOf } from './trace.ts';

const identity = { runId: 'run_t' as never, rolloutId: 'ro_t' as never, attempt: 1 };

describe('attempt trace', () => {
  it('passes everything on, seals through, and keeps nothing once the attempt is sealed', () => {
    const inner = memoryRecorder();
    let sealed = false;
    const attempt: AttemptRecorder = { ...inner, seal: () => void (sealed = true), get sealed() { return sealed; } };
    const { recorder, trace } = traceAttempt(attempt, { identity, now: () => 0, keepCalls: true });
    recorder.event('tool_call', { id: 'a', name: 'ls', arguments: '{}' });
    recorder.seal();
    assert.equal(recorder.sealed, true);
    recorder.event('tool_result', { id: 'a', ok: true, content: 'late' });
    assert.equal(inner.events.length, 2, 'the inner recorder decides what to drop');
    assert.deepEqual(trace.tools.map((t) => t.result), [null]);
  });

  it('pairs results with calls by id in order, even when a provider repeats ids', () => {
    const inner = memoryRecorder();
    const { recorder, trace } = traceAttempt({ ...inner, seal: () => {}, sealed: false }, { identity, now: () => 0, keepCalls: false });
    recorder.event('tool_call', { id: 'x', name: 'read', arguments: '{"p":1}' });
    recorder.event('tool_call', { id: 'x', name: 'read', arguments: '{"p":2}' });
    recorder.event('tool_result', { id: 'x', ok: true, content: 'one' });
    recorder.event('tool_result', { id: 'x', ok: false, content: 'two' });
    assert.deepEqual(trace.tools.map((t) => [t.arguments, t.result?.content]), [['{"p":1}', 'one'], ['{"p":2}', 'two']]);
    assert.deepEqual(trace.calls, [], 'model calls are kept only when a term needs them');
  });

  it('counts what the agent spent: its model calls and tokens and its tool calls, not a judge\'s or a simulated user\'s', () => {
    const { calls } = recordSession({ task: 't', turns: [[shell('ls', 'a')], [shell('ls', 'a')]] });
    const inner = memoryRecorder();
    const { recorder, trace } = traceAttempt({ ...inner, seal: () => {}, sealed: false }, { identity, now: () => 0, keepCalls: false });
    const withUsage = (call: (typeof calls)[number], purpose: (typeof calls)[number]['purpose'], promptTokens: number) => ({
      ...call,
      purpose,
      response: call.response ? { ...call.response, usage: { promptTokens, completionTokens: 1 } } : null,
    });
    recorder.modelCall(withUsage(calls[0]!, 'turn', 100));
    recorder.modelCall(withUsage(calls[1]!, 'summary', 50));
    recorder.modelCall(withUsage(calls[0]!, 'judge', 7_000));
    recorder.modelCall(withUsage(calls[1]!, 'user', 9_000));
    recorder.modelCall({ ...calls[0]!, response: null });
    recorder.event('tool_call', { id: 'a', name: 'ls', arguments: '{}' });
    assert.deepEqual(trace.spend, { modelCalls: 3, toolCalls: 1, promptTokens: 150, completionTokens: 2 });
  });

  it('reads the same tool calls back from stored events', () => {
    const { trace, calls, inner } = recordSession({ task: 't', turns: [[shell('ls', 'a')], [shell('ls', 'a'), { name: 'read_file', args: { path: 'x' }, error: 'missing' }]] });
    const events: RolloutEvent[] = inner.events.map((e, seq) => ({ schemaVersion: SCHEMA_VERSION, ...identity, seq, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), ...e }) as RolloutEvent);
    const stored = traceOf(identity, calls, events);
    assert.deepEqual(stored.tools, trace.tools);
    assert.deepEqual(processCounts(stored.tools), processCounts(trace.tools));
    assert.deepEqual(stored.spend, trace.spend, 'the same spend, read from stored calls');
  });
});
