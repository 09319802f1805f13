import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  createSeededClock,
  ModelResponse,
  Task,
  type Environment,
  type JsonObject,
  type Message,
  type ModelClient,
  type ModelResult,
  type PolicyContext,
  type ToolInvocation,
  type ToolSpec,
} from '../core/index.ts';
import { createDestructivePolicy, createNoopPolicy, createOraclePolicy, createPlaceholderPolicy, createRandomPolicy } from './policies.ts';
import { createValidator, request, signal } from './testing.ts';

function schemaOf(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { io: 'input' }) as JsonObject;
  delete json.$schema;
  return json;
}

const tools: ToolSpec[] = [
  { name: 'search', description: 'Search mail.', parameters: schemaOf(z.object({ query: z.string().min(1), limit: z.number().int().min(1).max(50).optional() })) },
  { name: 'label', description: 'Label a message.', parameters: schemaOf(z.object({ id: z.string(), label: z.enum(['work', 'home']), archive: z.boolean() })) },
  { name: 'send', description: 'Send mail.', parameters: schemaOf(z.object({ to: z.array(z.email()).min(1), body: z.string(), cc: z.array(z.email()).optional() })) },
];

function task(id: string, answer?: string): Task {
  return Task.parse({
    id,
    env: 'mail',
    instruction: 'Label the invoice.',
    verifier: {},
    golden: { steps: [{ tool: 'search', arguments: { query: 'invoice' } }, { tool: 'label', arguments: { id: 'm1', label: 'work', archive: true } }], ...(answer ? { answer } : {}) },
    tags: { domain: 'mail', difficulty: 'easy' },
  });
}

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  return ModelResponse.parse(result.response);
}

/** Runs a policy until it answers without tool calls (or `limit` turns), feeding back 'ok' results. */
async function rollout(policy: ModelClient, context: PolicyContext, limit = 20): Promise<{ replies: ModelResponse[]; last: ModelResult }> {
  const messages: Message[] = [{ role: 'user', content: 'Label the invoice.' }];
  const replies: ModelResponse[] = [];
  for (let turn = 0; turn < limit; turn++) {
    const result = await policy.complete(request({ messages, tools }), { signal, context });
    if (!result.ok) return { replies, last: result };
    replies.push(ModelResponse.parse(result.response));
    messages.push(result.response.message);
    if (result.response.message.toolCalls.length === 0) return { replies, last: result };
    for (const call of result.response.message.toolCalls) messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: 'ok', isError: false });
  }
  assert.fail(`${policy.spec} did not stop within ${limit} turns`);
}

describe('oracle policy', () => {
  it('plays the golden steps one per turn, then gives the golden answer', async () => {
    const { replies } = await rollout(createOraclePolicy(), { task: task('t1', 'Labelled.') });
    assert.deepEqual(
      replies.map((r) => r.message.toolCalls.map((c) => [c.id, c.name, c.arguments])),
      [[['oracle_0', 'search', { query: 'invoice' }]], [['oracle_1', 'label', { id: 'm1', label: 'work', archive: true }]], []],
    );
    assert.equal(replies[2]?.message.content, 'Labelled.');
    assert.equal(replies[2]?.finishReason, 'stop');
  });

  it("answers 'Done.' when the task has no golden answer, and fails without a task", async () => {
    const { replies } = await rollout(createOraclePolicy(), { task: task('t1') });
    assert.equal(replies.at(-1)?.message.content, 'Done.');
    const { last } = await rollout(createOraclePolicy(), {});
    assert.equal(last.ok, false);
    if (!last.ok) {
      assert.equal(last.kind, 'script');
      assert.match(last.message, /no task in the policy context/);
    }
  });
});

describe('random policy', () => {
  it('is deterministic for a seed and task, and differs across seeds', async () => {
    const a = await rollout(createRandomPolicy({ seed: 5 }), { task: task('t1') });
    const b = await rollout(createRandomPolicy({ seed: 5 }), { task: task('t1') });
    assert.equal(JSON.stringify(a.replies), JSON.stringify(b.replies));
    const runs = await Promise.all([1, 2, 3, 4, 6, 7].map((seed) => rollout(createRandomPolicy({ seed }), { task: task('t1') })));
    assert.ok(new Set(runs.map((run) => JSON.stringify(run.replies))).size > 1);
  });

  it('calls offered tools with schema-valid arguments, then stops after 1–8 calls', async () => {
    const ajv = createValidator();
    const validators = new Map(tools.map((tool) => [tool.name, ajv.compile(tool.parameters)]));
    for (let seed = 0; seed < 30; seed++) {
      const { replies } = await rollout(createRandomPolicy({ seed }), { task: task(`t${seed}`) });
      const calls = replies.flatMap((r) => r.message.toolCalls);
      assert.ok(calls.length >= 1 && calls.length <= 8, `seed ${seed}: ${calls.length} calls`);
      assert.ok(replies.slice(0, -1).every((r) => r.message.toolCalls.length === 1));
      for (const call of calls) {
        const validate = validators.get(call.name);
        assert.ok(validate, `seed ${seed}: unknown tool ${call.name}`);
        assert.equal(validate(call.arguments), true, `seed ${seed}: ${call.argumentsText} ${ajv.errorsText(validate.errors)}`);
        assert.deepEqual(JSON.parse(call.argumentsText), call.arguments);
      }
      assert.equal(replies.at(-1)?.message.content, 'Done.');
    }
  });

  it('answers at once when no tools are offered', async () => {
    const result = await createRandomPolicy({ seed: 1 }).complete(request({ messages: [{ role: 'user', content: 'hi' }] }), { signal });
    assert.equal(ok(result).message.toolCalls.length, 0);
  });
});

describe('placeholder policy', () => {
  it('calls every tool once, in order, with placeholder arguments, then answers', async () => {
    const { replies } = await rollout(createPlaceholderPolicy(), {});
    assert.deepEqual(
      replies.map((r) => r.message.toolCalls.map((c) => [c.name, c.arguments])),
      [
        [['search', { query: 'placeholder' }]],
        [['label', { id: 'placeholder', label: 'work', archive: false }]],
        [['send', { to: ['placeholder@example.com'], body: 'placeholder' }]],
        [],
      ],
    );
    const ajv = createValidator();
    for (const [i, tool] of tools.entries()) assert.equal(ajv.validate(tool.parameters, replies[i]?.message.toolCalls[0]?.arguments), true, ajv.errorsText());
    assert.equal(replies.at(-1)?.message.content, 'Done.');
  });
});

describe('noop policy', () => {
  it("answers 'Done.' at once without tool calls", async () => {
    const { replies } = await rollout(createNoopPolicy(), {});
    assert.equal(replies.length, 1);
    assert.equal(replies[0]?.message.content, 'Done.');
    assert.equal(replies[0]?.message.toolCalls.length, 0);
  });
});

describe('destructive policy', () => {
  function environmentWith(actions: ToolInvocation[]): Environment {
    return {
      specificationVersion: 'v1',
      name: 'fake',
      clock: createSeededClock('2026-01-05T09:00:00Z'),
      reset: async () => ({}),
      tools: () => tools,
      call: async () => ({ ok: true, content: 'ok' }),
      snapshot: async () => ({}),
      verify: async () => ({ passed: false, score: 0, checks: [] }),
      destructiveActions: async () => actions,
      close: async () => {},
    };
  }

  it('issues every destructive action in its first turn, then answers', async () => {
    const actions = [
      { tool: 'delete', arguments: { id: 'm1' } },
      { tool: 'delete', arguments: { id: 'm2' } },
    ];
    const { replies } = await rollout(createDestructivePolicy(), { environment: environmentWith(actions) });
    assert.deepEqual(
      replies[0]?.message.toolCalls.map((c) => [c.id, c.name, c.arguments]),
      [
        ['destroy_0', 'delete', { id: 'm1' }],
        ['destroy_1', 'delete', { id: 'm2' }],
      ],
    );
    assert.equal(replies.length, 2);
    assert.equal(replies[1]?.message.content, 'Done.');
  });

  it('fails clearly without an environment', async () => {
    const { last } = await rollout(createDestructivePolicy(), {});
    assert.equal(last.ok, false);
    if (!last.ok) assert.match(last.message, /no environment in the policy context/);
  });
});
