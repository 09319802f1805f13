import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRng } from '../../core/index.ts';
import { scriptPolicy, toolWalkPolicy, type PolicyRequest, type PolicyTurn } from './policy.ts';
import { startFakeEngine, type FakeEngine } from './server.ts';
import { chat, TOOLS } from './test-support.ts';

const tools = TOOLS;

function request(overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return { assistantTurns: 0, turnsSinceUser: 0, tools, toolChoice: 'auto', parallelToolCalls: true, thinking: true, rng: createRng('seed:conversation'), ...overrides };
}

function turnOf(result: ReturnType<ReturnType<typeof toolWalkPolicy>['next']>): PolicyTurn {
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.turn;
}

describe('tool-walk policy', () => {
  const walk = toolWalkPolicy({ turns: 2 });

  it('calls declared tools with schema-valid arguments for its turns, then answers', () => {
    const ajv = new Ajv2020({ strict: false });
    const validators = new Map(tools.map((tool) => [tool.function.name, ajv.compile(tool.function.parameters!)]));
    for (let seed = 0; seed < 40; seed++) {
      const turn = turnOf(walk.next(request({ rng: createRng(seed) })));
      assert.ok(turn.toolCalls.length >= 1 && turn.toolCalls.length <= 2);
      for (const call of turn.toolCalls) {
        const validate = validators.get(call.name);
        assert.ok(validate, `declared tool ${call.name}`);
        assert.ok(validate(call.arguments), `${call.name} ${JSON.stringify(call.arguments)}: ${JSON.stringify(validate.errors)}`);
      }
      assert.match(turn.reasoning ?? '', /^Step 1 of 2: /);
    }
    const answer = turnOf(walk.next(request({ turnsSinceUser: 2 })));
    assert.deepEqual(answer.toolCalls, []);
    assert.match(answer.content, /^Done after 2 tool calls/);
  });

  it('gives the same turn for the same seed and conversation, and another for another conversation', () => {
    const a = turnOf(walk.next(request({ rng: createRng('7:abc') })));
    const b = turnOf(walk.next(request({ rng: createRng('7:abc') })));
    assert.deepEqual(a, b);
    const others = Array.from({ length: 8 }, (_unused, i) => JSON.stringify(turnOf(walk.next(request({ rng: createRng(`7:other-${i}`) })))));
    assert.ok(others.some((other) => other !== JSON.stringify(a)));
  });

  it('obeys tool_choice, parallel_tool_calls and a request without thinking', () => {
    assert.deepEqual(turnOf(walk.next(request({ toolChoice: 'none' }))).toolCalls, []);
    assert.ok(turnOf(walk.next(request({ toolChoice: 'required', turnsSinceUser: 9 }))).toolCalls.length > 0);
    for (let seed = 0; seed < 20; seed++) {
      const named = turnOf(walk.next(request({ toolChoice: { name: 'run_command' }, rng: createRng(seed) })));
      assert.deepEqual(named.toolCalls.map((call) => call.name), ['run_command']);
      assert.equal(turnOf(walk.next(request({ parallelToolCalls: false, rng: createRng(seed) }))).toolCalls.length, 1);
    }
    assert.equal(turnOf(walk.next(request({ thinking: false }))).reasoning, null);
    assert.deepEqual(turnOf(walk.next(request({ tools: [] }))).toolCalls, []);
  });

  it('refuses a negative number of turns', () => {
    assert.throws(() => toolWalkPolicy({ turns: -1 }), /tool-walk turns: got -1 \(expected a non-negative integer\)/);
  });
});

describe('script policy', () => {
  it('plays the turn the conversation is on and reports unplayed turns', () => {
    const policy = scriptPolicy({ turns: [{ reasoning: 'r0', content: 'c0' }, { content: 'c1', toolCalls: [{ id: 'call_x', name: 'read_file', argumentsText: '{"path": ' }] }, { content: 'c2' }] });
    assert.deepEqual(turnOf(policy.next(request({ assistantTurns: 1 }))), { reasoning: null, content: 'c1', toolCalls: [{ id: 'call_x', name: 'read_file', arguments: '{"path": ' }] });
    assert.deepEqual(policy.unplayed(), [0, 2]);
    assert.equal(turnOf(policy.next(request({ assistantTurns: 0, thinking: false }))).reasoning, null, 'no reasoning when the prompt closed the block');
    assert.deepEqual(policy.unplayed(), [2]);
    const past = policy.next(request({ assistantTurns: 3 }));
    assert.deepEqual(past, { ok: false, message: 'script: the script has 3 turns and this request asks for turn 4 (the conversation holds 3 assistant messages)' });
  });

  it('refuses turns only the mock model can play, naming the turn and field', () => {
    assert.throws(() => scriptPolicy({ turns: [{ content: 'a' }, { fault: 'http_500' }] }, 'demo.yaml'), /demo\.yaml: turns\.1\.fault: is not supported by the fake engine/);
    assert.throws(() => scriptPolicy({ turns: [{ raw: { role: 'assistant' } }] }), /turns\.0\.raw/);
    assert.throws(() => scriptPolicy({ turns: [{ contnet: 'typo' }] } as never, 'demo.yaml'), /demo\.yaml: invalid content/);
  });
});

describe('policies over HTTP', () => {
  let engine: FakeEngine;
  let scripted: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 3 }), seed: 3 });
    scripted = await startFakeEngine({ policy: scriptPolicy({ turns: [{ reasoning: 'Try.', toolCalls: [{ name: 'read_file', argumentsText: '{"path": "a.ts"' }] }] }) });
  });
  after(async () => {
    await engine.close();
    await scripted.close();
  });

  it('answers concurrent conversations exactly as it answers them one at a time', async () => {
    const bodies = Array.from({ length: 16 }, (_unused, i) => ({ messages: [{ role: 'user', content: `task ${i}` }], tools: TOOLS, return_token_ids: true }));
    const alone: unknown[] = [];
    for (const body of bodies) alone.push((await chat(engine, body)).choices[0]!.token_ids);
    const together = await Promise.all(bodies.map(async (body) => (await chat(engine, body)).choices[0]!.token_ids));
    assert.deepEqual(together, alone);
    assert.ok(new Set(together.map((ids) => JSON.stringify(ids))).size > 8, 'different conversations get different answers');
  });

  it('keeps a scripted malformed call as content, as vLLM\'s hermes parser does with JSON it cannot read', async () => {
    const body = await chat(scripted, { messages: [{ role: 'user', content: 'go' }], tools: TOOLS });
    const choice = body.choices[0]!;
    assert.deepEqual(choice.message.tool_calls, []);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.reasoning, 'Try.');
    assert.equal(choice.message.content, '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.ts"}\n</tool_call>');
  });
});
