import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { ModelCall, RolloutId, RunId } from '../../core/index.ts';
import { createOpenAIChat } from '../../model/index.ts';
import { toolWalkPolicy } from '../fake-engine/index.ts';
import { gatewayBaseUrl, gatewayClientFetch, RECORDED_BY_HEADER, RECORDED_HEADER, ROLLOUT_HEADER, startGateway } from './index.ts';
import { attachMemory, CHAT_TOOLS, postJson, sseData, startStack, type Stack } from './test-support.ts';

// How calls are recorded: indices in arrival order, each call's parent the one before, whether it
// extends it; rollouts in parallel kept apart; clients that record themselves, unrecorded
// requests, upstream failures, cut streams and clients that hang up.

type Wire = { role: string; content: string | null; reasoning?: string | null; tool_calls?: { id: string }[] };

/** A chat conversation driven by hand: each turn sends the history back (optionally changed) and adds tool results. */
async function converse(url: string, turns: number, options: { marker: string; change?: (messages: Wire[], turn: number) => Wire[] }): Promise<void> {
  let messages: Wire[] = [{ role: 'user', content: `Task ${options.marker}: fix the parser.` }];
  for (let turn = 0; turn < turns; turn++) {
    if (options.change) messages = options.change(messages, turn);
    const reply = await postJson(`${url}/chat/completions`, { messages, tools: CHAT_TOOLS });
    assert.equal(reply.status, 200, reply.text);
    const message = (JSON.parse(reply.text) as { choices: { message: Wire }[] }).choices[0]!.message;
    messages = [...messages, { role: 'assistant', content: message.content, reasoning: message.reasoning ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) }];
    for (const call of message.tool_calls ?? []) messages.push({ role: 'tool', content: `ok ${turn}`, tool_call_id: call.id } as Wire);
  }
}

/** A recorder whose calls can be awaited: resolves once `count` calls have been recorded. */
function awaitingRecorder() {
  const calls: ModelCall[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    calls,
    until: (count: number) => new Promise<void>((resolve) => (calls.length >= count ? resolve() : waiters.push({ count, resolve }))),
    modelCall: (call: ModelCall) => {
      calls.push(call);
      for (const waiter of waiters.filter((w) => calls.length >= w.count)) waiter.resolve();
    },
    event: () => {},
  };
}

describe('recording', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ policy: toolWalkPolicy({ turns: 20 }), seed: 3 });
  });
  after(() => stack.close());

  it('numbers calls in arrival order, links each to the one before, and says which extend it', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_chain');
    // Turn 3 is sent with the first tool result rewritten: it no longer extends turn 2.
    await converse(gatewayBaseUrl(stack.gateway.url, 'ro_chain'), 5, {
      marker: 'chain',
      change: (messages, turn) => (turn === 3 ? messages.map((m) => (m.role === 'tool' ? { ...m, content: 'rewritten' } : m)) : messages),
    });
    const calls = recorder.calls;
    assert.deepEqual(calls.map((c) => c.index), [0, 1, 2, 3, 4]);
    assert.deepEqual(calls.map((c) => c.parentId), [null, ...calls.slice(0, -1).map((c) => c.id)]);
    assert.deepEqual(calls.map((c) => c.extendsParent), [undefined, true, true, false, true]);
    assert.ok(calls.every((c) => c.purpose === 'turn' && c.runId === 'run_gateway_test' && c.rolloutId === 'ro_chain' && c.attempt === 1));
    // Messages the client resent are the very objects recorded before, so the store shares them.
    assert.equal(calls[2]!.request.messages[0], calls[1]!.request.messages[0]);
    assert.equal(calls[2]!.request.tools, calls[1]!.request.tools);
    assert.equal(calls[0]!.request.tools[0]!.name, 'read_file');
  });

  it('stamps each call with the policy version read as it arrives', async () => {
    let version = 1;
    const recorder = awaitingRecorder();
    stack.gateway.attach({ identity: { runId: 'run_x' as RunId, rolloutId: 'ro_versions' as RolloutId, attempt: 1 }, recorder, policyVersion: () => `step-${version++}` });
    await converse(gatewayBaseUrl(stack.gateway.url, 'ro_versions'), 3, { marker: 'versions' });
    assert.deepEqual(recorder.calls.map((c) => [c.policyVersion, c.request.policyVersion]), [
      ['step-1', 'step-1'],
      ['step-2', 'step-2'],
      ['step-3', 'step-3'],
    ]);
  });

  it('keeps rollouts running in parallel apart', async () => {
    const rollouts = ['ro_a', 'ro_b', 'ro_c', 'ro_d'].map((id) => ({ id, ...attachMemory(stack.gateway, id) }));
    await Promise.all(rollouts.map(({ id }) => converse(gatewayBaseUrl(stack.gateway.url, id), 6, { marker: id })));
    for (const { id, recorder } of rollouts) {
      assert.equal(recorder.calls.length, 6);
      assert.ok(recorder.calls.every((c) => c.rolloutId === id && c.request.messages[0]!.content === `Task ${id}: fix the parser.`), `${id} holds only its own calls`);
      assert.deepEqual(recorder.calls.map((c) => c.index), [0, 1, 2, 3, 4, 5]);
      assert.ok(recorder.calls.slice(1).every((c) => c.extendsParent === true));
    }
  });

  it('takes the rollout from a header when the base URL cannot carry it', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_header');
    const reply = await postJson(`${stack.gateway.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] }, { [ROLLOUT_HEADER]: 'ro_header' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get(RECORDED_HEADER), 'true');
    assert.equal(recorder.calls.length, 1);
  });

  it('hands the token fields to a client that records them itself (Gauntlet\'s adapter), in vLLM\'s shape, and records nothing', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_client');
    const raw = await postJson(`${gatewayBaseUrl(stack.gateway.url, 'ro_client')}/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] }, { [RECORDED_BY_HEADER]: 'client' });
    const body = JSON.parse(raw.text) as { prompt_token_ids: number[]; choices: { token_ids: number[]; logprobs: { content: unknown[] } }[] };
    assert.equal(raw.headers.get(RECORDED_HEADER), 'client');
    assert.ok(body.prompt_token_ids.length > 0 && body.choices[0]!.token_ids.length === body.choices[0]!.logprobs.content.length);
    for (const stream of [true, false]) {
      const model = createOpenAIChat({ baseURL: gatewayBaseUrl(stack.gateway.url, 'ro_client'), model: stack.engine.model, fetch: gatewayClientFetch(), stream, maxRetries: 0 });
      const result = await model.complete({ messages: [{ role: 'user', content: 'hi' }], tools: [], sampling: {} }, { signal: new AbortController().signal });
      assert.ok(result.ok);
      const tokens = result.response.tokens;
      assert.ok(tokens && tokens.source === 'engine' && tokens.promptIds!.length > 0 && tokens.completionIds!.length > 0, `stream ${stream}: the adapter read the engine's tokens`);
      assert.equal(tokens.completionLogprobs!.length, tokens.completionIds!.length);
    }
    assert.equal(recorder.calls.length, 0);
  });

  it('refuses bad bodies with a 400 naming the field, and rollouts it does not know with a 404', async () => {
    attachMemory(stack.gateway, 'ro_bad');
    const url = gatewayBaseUrl(stack.gateway.url, 'ro_bad');
    for (const [body, param] of [
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name'],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
      [{ prompt: { not: 'a prompt' } }, 'prompt'],
    ] as const) {
      const path = 'prompt' in body ? '/completions' : '/chat/completions';
      const reply = await postJson(`${url}${path}`, body);
      assert.equal(reply.status, 400, reply.text);
      const error = (JSON.parse(reply.text) as { error: { param: string; type: string } }).error;
      assert.equal(error.param, param);
      assert.equal(error.type, 'invalid_request_error');
    }
    const notJson = await postJson(`${url}/chat/completions`, '{"messages": [');
    assert.equal(notJson.status, 400);
    assert.match(notJson.text, /not valid JSON/);
    const unknown = await postJson(`${gatewayBaseUrl(stack.gateway.url, 'ro_never_attached')}/chat/completions`, { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /no rollout ro_never_attached is attached/);
  });

  it('records the client hanging up mid-stream as an aborted call', async () => {
    const slow = await startStack({ policy: toolWalkPolicy({ turns: 1 }), latency: { perTokenMs: 5 } });
    try {
      const recorder = awaitingRecorder();
      slow.gateway.attach({ identity: { runId: 'run_x' as RunId, rolloutId: 'ro_hangup' as RolloutId, attempt: 1 }, recorder });
      const controller = new AbortController();
      const response = await fetch(`${gatewayBaseUrl(slow.gateway.url, 'ro_hangup')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], tools: CHAT_TOOLS, stream: true }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await recorder.until(1);
      assert.equal(recorder.calls[0]!.error?.kind, 'aborted');
      assert.equal(recorder.calls[0]!.response, null);
    } finally {
      await slow.close();
    }
  });
});

describe('upstream failures', () => {
  /** The engine's stream cut after `events` events, as a dropped connection leaves it. */
  function cuttingFetch(events: number): typeof fetch {
    return async (input, init) => {
      const response = await fetch(input, init);
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return response;
      const text = await response.text();
      const kept = text.split('\n\n').slice(0, events).join('\n\n') + '\n\n';
      return new Response(kept, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    };
  }

  it('a cut stream is cut for a chat client too, and recorded as a connection failure with what had arrived', async () => {
    const stack = await startStack({ policy: toolWalkPolicy({ turns: 1 }) });
    const gateway = await startGateway({ upstream: stack.engine.url, fetch: cuttingFetch(5) });
    try {
      const recorder = awaitingRecorder();
      gateway.attach({ identity: { runId: 'run_x' as RunId, rolloutId: 'ro_cut' as RolloutId, attempt: 1 }, recorder });
      const response = await fetch(`${gatewayBaseUrl(gateway.url, 'ro_cut')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }) });
      await assert.rejects(response.text(), 'the client sees the connection end without [DONE]');
      await recorder.until(1);
      const call = recorder.calls[0]!;
      assert.equal(call.error?.kind, 'connection');
      assert.match(call.error!.message, /ended without its terminal \[DONE\], after 5 events/);
      assert.equal((call.wire!.response as { gauntlet_stream: { complete: boolean } }).gauntlet_stream.complete, false);

      // A Responses client is told in its own terms: response.failed, never a made-up completion.
      gateway.attach({ identity: { runId: 'run_x' as RunId, rolloutId: 'ro_cut_responses' as RolloutId, attempt: 1 }, recorder });
      const openai = new OpenAI({ baseURL: gatewayBaseUrl(gateway.url, 'ro_cut_responses'), apiKey: 'unused', maxRetries: 0 });
      const stream = await openai.responses.create({ model: stack.engine.model, input: 'hi', stream: true });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      assert.equal(types.at(-1), 'response.failed');
      assert.ok(!types.includes('response.completed'));
      await recorder.until(2);
      assert.equal(recorder.calls[1]!.error?.kind, 'connection');
    } finally {
      await gateway.close();
      await stack.close();
    }
  });

  it('an unreachable upstream is a 502 in the client API\'s shape, recorded as a connection failure', async () => {
    const gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm' });
    try {
      const { recorder } = attachMemory(gateway, 'ro_down');
      const chat = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_down')}/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(chat.status, 502);
      assert.match((JSON.parse(chat.text) as { error: { message: string } }).error.message, /could not be reached/);
      const anthropic = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_down')}/messages`, { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(anthropic.status, 502);
      assert.equal((JSON.parse(anthropic.text) as { type: string }).type, 'error');
      assert.deepEqual(recorder.calls.map((c) => c.error?.kind), ['connection', 'connection']);
      assert.equal(gateway.stats().failed, 2);
    } finally {
      await gateway.close();
    }
  });

  it('an engine that cannot be told is asked again once it is up (engine auto)', async () => {
    const stack = await startStack({ policy: toolWalkPolicy({ turns: 1 }) });
    try {
      assert.deepEqual(stack.gateway.stats().engine, { configured: 'auto', resolved: null, basis: 'not asked yet' });
      const reply = await postJson(`${stack.gateway.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], stream: true });
      assert.equal(sseData(reply.text).at(-1), '[DONE]');
      assert.equal(stack.gateway.stats().engine.resolved, 'vllm');
    } finally {
      await stack.close();
    }
  });
});

describe('the unix socket', () => {
  it('serves the same routes on a socket, for sandboxes whose only way out is a file', async () => {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'gauntlet-gateway-')), 'gateway.sock');
    const stack = await startStack({ policy: toolWalkPolicy({ turns: 1 }) }, { socketPath });
    try {
      assert.equal(stack.gateway.socketPath, socketPath);
      const { recorder } = attachMemory(stack.gateway, 'ro_socket');
      const text = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ socketPath, path: '/rollouts/ro_socket/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (piece: string) => (body += piece));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }));
      });
      assert.equal((JSON.parse(text) as { object: string }).object, 'chat.completion');
      assert.equal(recorder.calls.length, 1);
    } finally {
      await stack.close();
    }
  });
});
