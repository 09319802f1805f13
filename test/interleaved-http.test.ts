// End to end over HTTP: the agent loop, the OpenAI/Anthropic adapters and the mock model server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropThinking, interleaved, runAgent, type Scaffold } from '../src/agent/index.ts';
import { memoryRecorder, RunConfig, Task, type RolloutId, type RunId } from '../src/core/index.ts';
import { instantiate } from '../src/envs/index.ts';
import { createModelClient, startMockModelServer, type MockModelServer, type ScriptInput } from '../src/model/index.ts';
import { executeRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterCatalog, counterEnv, counterTasks } from './support/counter-env.ts';

const TURNS = 12;
const styles = ['inline_think', 'reasoning_details', 'reasoning_content', 'reasoning_field'] as const;
const script: ScriptInput = {
  model: 'mock',
  turns: [
    ...Array.from({ length: TURNS - 1 }, (_, i) =>
      i === 5
        ? {
            // a message with vendor fields in an unusual key order: must come back untouched
            raw: {
              tool_calls: [{ type: 'function', id: 'call_RAW_5', function: { arguments: '{"id": "a"}', name: 'increment' } }],
              role: 'assistant',
              content: '<think>raw turn: keep every byte</think>',
              refusal: null,
              annotations: [],
            },
          }
        : {
            reasoning: `Turn ${i}: counter a needs another increment (${i + 1} of ${TURNS - 1}).`,
            reasoningStyle: styles[i % styles.length],
            signature: `sig-${i}-Zm9vYmFy`,
            content: i % 3 === 0 ? `Incrementing (${i}).` : '',
            toolCalls: [{ id: `call_${i}_x7Yz`, name: 'increment', arguments: { id: 'a' } }],
          },
    ),
    { reasoning: 'All increments done.', content: 'Counter a was incremented eleven times.' },
  ],
};

/** The Anthropic route has no raw OpenAI message: the same trajectory with turn 5 scripted like the rest. */
const anthropicScript: ScriptInput = {
  model: 'mock',
  turns: script.turns.map((turn, i) => (i === 5 ? { reasoning: 'Turn 5.', signature: 'sig-5', toolCalls: [{ id: 'call_5_x7Yz', name: 'increment', arguments: { id: 'a' } }] } : turn)),
};

const task = Task.parse({
  id: 'counter/eleven',
  env: 'counter',
  instruction: 'Increment counter a eleven times.',
  verifier: { checks: [{ check: 'counter_delta', id: 'a', delta: TURNS - 1 }, { check: 'table_unchanged', table: 'counters', except: ['a'] }] },
  golden: { steps: [] },
  tags: { domain: 'counting', difficulty: 'easy' },
  limits: { maxTurns: 20, deadlineMs: 20_000 },
});

/** A fetch that keeps every response body exactly as the server sent it. */
function recordingFetch(): { fetch: typeof fetch; bodies: unknown[] } {
  const bodies: unknown[] = [];
  return {
    bodies,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const text = await response.text();
      try {
        bodies.push(JSON.parse(text));
      } catch {
        bodies.push(text);
      }
      return new Response(text, { status: response.status, headers: response.headers });
    },
  };
}

async function play(server: MockModelServer, api: 'openai' | 'anthropic', scaffold: Scaffold) {
  server.requests.length = 0;
  const recorder = recordingFetch();
  const spec = api === 'openai' ? `openai:${server.url}#mock` : `anthropic:${server.url.replace(/\/v1$/, '')}#mock`;
  const model = await createModelClient(spec, { fetch: recorder.fetch, env: {}, stream: false });
  const environment = instantiate(counterEnv);
  await environment.reset(task, { seed: 3 });
  const result = await runAgent({
    task,
    environment,
    model,
    recorder: memoryRecorder(),
    identity: { runId: 'run_t' as RunId, rolloutId: 'ro_t' as RolloutId, attempt: 1 },
    settings: { scaffold, maxTurns: 20, deadlineAt: Date.now() + 20_000 },
  });
  const verdict = await environment.verify({ answer: result.answer, messages: result.history });
  await environment.close();
  return { result, verdict, requests: server.requests as { messages: Record<string, unknown>[] }[], responses: recorder.bodies as Record<string, unknown>[] };
}

describe('a 12-turn interleaved trajectory over HTTP', () => {
  let server: MockModelServer;
  let anthropicServer: MockModelServer;
  before(async () => {
    server = await startMockModelServer({ script });
    anthropicServer = await startMockModelServer({ script: anthropicScript });
  });
  after(async () => Promise.all([server.close(), anthropicServer.close()]));

  it('resends every earlier OpenAI assistant message byte-identical (inline <think>, reasoning_details, call ids)', async () => {
    const { result, verdict, requests, responses } = await play(server, 'openai', interleaved);
    assert.equal(result.terminationReason, 'answered');
    assert.equal(verdict.passed, true);
    assert.equal(requests.length, TURNS);
    const received = responses.map((r) => JSON.stringify((r.choices as { message: unknown }[])[0]!.message));
    for (let k = 1; k < TURNS; k++) {
      const sent = requests[k]!.messages.filter((m) => m.role === 'assistant').map((m) => JSON.stringify(m));
      assert.deepEqual(sent, received.slice(0, k), `request ${k + 1} must carry every earlier assistant message as received`);
    }
    const last = requests[TURNS - 1]!.messages;
    assert.ok(last.some((m) => typeof m.content === 'string' && m.content.includes('<think>')), 'inline think kept');
    assert.ok(last.some((m) => Array.isArray(m.reasoning_details)), 'reasoning_details kept');
    assert.ok(last.some((m) => JSON.stringify(m).includes('call_RAW_5')), 'raw call id kept');
  });

  it('resends Anthropic content lists verbatim, thinking signatures included', async () => {
    const { result, requests, responses } = await play(anthropicServer, 'anthropic', interleaved);
    assert.equal(result.terminationReason, 'answered');
    const received = responses.map((r) => JSON.stringify(r.content));
    for (let k = 1; k < TURNS; k++) {
      const sent = requests[k]!.messages.filter((m) => m.role === 'assistant').map((m) => JSON.stringify(m.content));
      assert.deepEqual(sent, received.slice(0, k));
    }
    assert.match(JSON.stringify(requests[TURNS - 1]), /"signature"/);
  });

  it('with drop-thinking, earlier reasoning is not sent back but call ids are', async () => {
    for (const api of ['openai', 'anthropic'] as const) {
      const { result, requests } = await play(api === 'openai' ? server : anthropicServer, api, dropThinking);
      assert.equal(result.terminationReason, 'answered');
      const lastAssistant = requests[TURNS - 1]!.messages.filter((m) => m.role === 'assistant');
      const text = JSON.stringify(lastAssistant);
      assert.doesNotMatch(text, /<think>|reasoning_details|reasoning_content|"reasoning"|"thinking"|signature/, `${api}: reasoning dropped`);
      assert.match(text, /call_0_x7Yz/, `${api}: call ids kept`);
    }
  });
});

describe('model endpoint failures', () => {
  it('make infra_error rollouts (no score) while the rest of the run finishes', async () => {
    const good = await startMockModelServer({
      script: { turns: [{ toolCalls: [{ name: 'increment', arguments: { id: 'a' } }] }, { toolCalls: [{ name: 'increment', arguments: { id: 'a' } }] }, { content: 'done' }] },
    });
    const faults = await Promise.all(
      (['http_500', 'hang', 'malformed_json'] as const).map((fault) => startMockModelServer({ script: { turns: [{ fault }] } })),
    );
    // Route each task to its own server: a → the good one, b/c/… → the faulty ones.
    const route: typeof fetch = (input, init) => {
      const body = String(init?.body ?? '');
      const target = /counter b/.test(body) ? faults[0]! : /counter c/.test(body) ? faults[1]! : good;
      const url = String(input).replace(/^http:\/\/127\.0\.0\.1:\d+\/v1/, target.url);
      return fetch(url, init);
    };
    try {
      const model = await createModelClient(`openai:${good.url}#mock`, { fetch: route, env: {}, timeoutMs: 300, maxRetries: 0 });
      const store = openStore(':memory:');
      const summary = await executeRun({
        store,
        model,
        run: { resolved: { config: RunConfig.parse({ envs: ['counter'], model: 'openai', epochs: 1, concurrency: 3, seed: 1, maxAttempts: 1 }), tasks: counterTasks } },
        catalog: counterCatalog,
        sleep: async () => {},
      });
      assert.equal(summary.rollouts, 3);
      assert.equal(summary.infraErrors, 2);
      assert.equal(summary.scored, 1);
      assert.equal(summary.passRate, 1);
      for (const r of store.rollouts(summary.runId).filter((r) => r.status === 'infra_error')) {
        assert.equal(r.score, null);
        assert.equal(r.error?.source, 'model');
      }

      const malformed = await createModelClient(`openai:${faults[2]!.url}#mock`, { env: {}, maxRetries: 0 });
      const bad = await executeRun({
        store,
        model: malformed,
        run: { resolved: { config: RunConfig.parse({ envs: ['counter'], model: 'openai', epochs: 1, concurrency: 1, seed: 1, maxAttempts: 1 }), tasks: counterTasks.slice(0, 1) } },
        catalog: counterCatalog,
        sleep: async () => {},
      });
      assert.equal(bad.infraErrors, 1);
      assert.match(store.rollouts(bad.runId)[0]!.error!.message, /malformed/);
    } finally {
      await Promise.all([good.close(), ...faults.map((f) => f.close())]);
    }
  });

  it('score a model that keeps sending malformed tool calls as 0 with invalid_output', async () => {
    const broken = { name: 'increment', argumentsText: '{"id": "a",' };
    const server = await startMockModelServer({ script: { turns: [{ toolCalls: [broken] }, { toolCalls: [broken] }, { toolCalls: [{ name: 'no_such_tool', arguments: {} }] }] } });
    try {
      const model = await createModelClient(`openai:${server.url}#mock`, { env: {} });
      const store = openStore(':memory:');
      const summary = await executeRun({
        store,
        model,
        run: { resolved: { config: RunConfig.parse({ envs: ['counter'], model: 'openai', epochs: 1, concurrency: 1, seed: 1 }), tasks: counterTasks.slice(0, 1) } },
        catalog: counterCatalog,
      });
      assert.equal(summary.scored, 1);
      assert.equal(summary.terminationReasons.invalid_output, 1);
      const rollout = store.rollouts(summary.runId)[0]!;
      assert.equal(rollout.score, 0);
      assert.equal(rollout.stats.toolErrors, 3);
    } finally {
      await server.close();
    }
  });
});
