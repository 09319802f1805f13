// The agent loop against a model endpoint that misbehaves, over a real loopback server: the endpoint's
// failures end the rollout as infra errors (never scored as the model's), with every call recorded.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { memoryRecorder, type RolloutId, type RunId } from '../core/index.ts';
import { instantiate } from '../envs/index.ts';
import { createAnthropicMessages, createOpenAIChat } from '../model/index.ts';
import { counterEnv, counterTasks } from '../../test/support/counter-env.ts';
import { withServer } from '../model/testing.ts';
import { runAgent, type AgentResult } from './loop.ts';

const identity = { runId: 'run_h' as RunId, rolloutId: 'ro_h' as RolloutId, attempt: 1 };
const task = counterTasks[0]!;

const chunk = (delta: object, finish: string | null = null): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** A turn that increments counter a: the rollout goes on to a second call. */
function toolTurn(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const call = { index: 0, id: 'call_1', type: 'function', function: { name: 'increment', arguments: '{"id":"a"}' } };
  res.end(`${chunk({ role: 'assistant', content: '', tool_calls: [call] })}${chunk({}, 'tool_calls')}data: [DONE]\n\n`);
}

async function rollout(base: string, settings: { deadlineMs: number; requestTimeoutMs: number }): Promise<{ result: AgentResult; recorder: ReturnType<typeof memoryRecorder> }> {
  const environment = instantiate(counterEnv);
  await environment.reset(task, { seed: 1 });
  const recorder = memoryRecorder();
  const model = createOpenAIChat({ baseURL: `${base}/v1`, model: 'm', maxRetries: 1 });
  const result = await runAgent({ task, environment, model, recorder, identity, settings: { maxTurns: 5, deadlineAt: Date.now() + settings.deadlineMs, requestTimeoutMs: settings.requestTimeoutMs } });
  return { result, recorder };
}

describe('a misbehaving model endpoint, through the agent loop', () => {
  it('a deadline that ends the wait a 429 asked for is an infra error naming the 429, not the model out of time', async () => {
    await withServer(
      (res, attempt) => {
        if (attempt === 1) return toolTurn(res);
        res.writeHead(429, { 'retry-after': '30', 'content-type': 'application/json' });
        res.end('{"error":{"message":"rate limited"}}');
      },
      async (base) => {
        // The endpoint answered 429 moments before the deadline: never silent for a request timeout.
        const { result, recorder } = await rollout(base, { deadlineMs: 800, requestTimeoutMs: 10_000 });
        assert.equal(result.terminationReason, 'infra_error');
        assert.deepEqual([result.infraError?.kind, result.infraError?.retryable], ['http', true]);
        assert.match(result.infraError?.message ?? '', /HTTP 429: rate limited \(stopped by the caller while waiting 30000 ms to retry\)/);
        assert.equal(recorder.calls.length, 2);
        assert.equal(recorder.calls[1]?.wire?.status, 429, 'the 429 is recorded');
      },
    );
  });

  it('a stream of keep-alive comments that never answers is an infra error, not the model out of time', async () => {
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk({ role: 'assistant', content: '' }));
        const timer = setInterval(() => res.write(': keep-alive\n\n'), 20);
        res.on('close', () => clearInterval(timer));
      },
      async (base) => {
        const { result, recorder } = await rollout(base, { deadlineMs: 10_000, requestTimeoutMs: 300 });
        assert.equal(result.terminationReason, 'infra_error');
        assert.equal(result.infraError?.kind, 'timeout');
        assert.match(result.infraError?.message ?? '', /went silent.*bytes without an event \(keep-alive comments/);
        assert.equal(recorder.calls.length, 1);
      },
    );
  });

  it('an Anthropic tool input that is not JSON is the model\'s invalid output (scored), not an infra error', async () => {
    const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          event('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], usage: { input_tokens: 5, output_tokens: 0 } } }) +
            event('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'tu_1', name: 'increment', input: {} } }) +
            event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"id": "a",' } }) +
            event('content_block_stop', { index: 0 }) +
            event('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }) +
            event('message_stop', {}),
        );
      },
      async (base) => {
        const environment = instantiate(counterEnv);
        await environment.reset(task, { seed: 1 });
        const recorder = memoryRecorder();
        const model = createAnthropicMessages({ baseURL: base, model: 'm', maxRetries: 1 });
        const result = await runAgent({ task, environment, model, recorder, identity, settings: { maxTurns: 5, deadlineAt: Date.now() + 10_000, requestTimeoutMs: 5000 } });
        assert.equal(result.terminationReason, 'invalid_output');
        assert.equal(result.infraError, undefined);
        assert.equal(recorder.calls.length, 1);
        assert.equal(recorder.calls[0]?.error?.kind, 'unusable_output');
        assert.match(recorder.calls[0]?.error?.message ?? '', /the model's streamed tool input is not JSON/);
      },
    );
  });

  it('a response nested 100,000 levels deep is an infra error with its call recorded, not a crash of the loop', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    await withServer(
      (res, attempt) => {
        if (attempt > 1) return toolTurn(res);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"","x":${deep}}}]}\n\n${chunk({}, 'stop')}data: [DONE]\n\n`);
      },
      async (base) => {
        const { result, recorder } = await rollout(base, { deadlineMs: 10_000, requestTimeoutMs: 5000 });
        assert.equal(result.terminationReason, 'infra_error');
        assert.deepEqual([result.infraError?.kind, result.infraError?.retryable], ['malformed_response', false]);
        assert.match(result.infraError?.message ?? '', /nests deeper than 512 levels \(at \.choices\[0\]\.message\.x\[0\]/);
        assert.equal(recorder.calls.length, 1);
        assert.doesNotThrow(() => JSON.stringify(recorder.calls), 'the record can be stored');
      },
    );
  });
});
