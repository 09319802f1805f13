import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { benchFanout, fanOut, mapReduce, AgentOutputError, SharedBudget } from '../src/agent/fanout/index.ts';
import { createAppRun } from '../src/apps/run.ts';
import { InputError, type ModelCallId, type ModelClient, type ModelResult, type Usage } from '../src/core/index.ts';
import { openStore } from '../src/store/index.ts';

/** A model whose every call costs 10 + 10 tokens and answers with the last user message upper-cased. */
function echoModel(log: string[] = []): ModelClient {
  return {
    specificationVersion: 'v1',
    spec: 'test:echo',
    complete: async (request): Promise<ModelResult> => {
      const last = request.messages.at(-1)?.content ?? '';
      log.push(last);
      return { ok: true, response: { message: { role: 'assistant', content: last.toUpperCase(), toolCalls: [] }, finishReason: 'stop', usage: { promptTokens: 10, completionTokens: 10 } } };
    },
  };
}

/** A model that answers only when the test releases it, so calls can be held in flight. */
function heldModel(): ModelClient & { waiting: number; releaseAll(): void; untilWaiting(n: number): Promise<void> } {
  const pending: { resolve: (r: ModelResult) => void }[] = [];
  const watchers: { n: number; resolve: () => void }[] = [];
  const model = {
    specificationVersion: 'v1' as const,
    spec: 'test:held',
    waiting: 0,
    complete: (_request: unknown, { signal }: { signal: AbortSignal }): Promise<ModelResult> =>
      new Promise<ModelResult>((resolve) => {
        signal.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false }), { once: true });
        pending.push({ resolve });
        model.waiting++;
        for (const w of watchers.filter((w) => model.waiting >= w.n)) w.resolve();
      }),
    releaseAll: () => {
      for (const p of pending.splice(0)) p.resolve({ ok: true, response: { message: { role: 'assistant', content: 'done', toolCalls: [] }, finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } } });
    },
    untilWaiting: (n: number) => new Promise<void>((resolve) => (model.waiting >= n ? resolve() : watchers.push({ n, resolve }))),
  };
  return model;
}

const ask = (text: string) => ({ messages: [{ role: 'user' as const, content: text }] });

describe('fan-out', () => {
  it('maps every item with at most `concurrency` agents in flight and reduces the values in item order', async () => {
    let inFlight = 0;
    let peak = 0;
    const { reduced, result } = await mapReduce({
      items: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      model: echoModel(),
      concurrency: 3,
      agent: async ({ item, complete }) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        const response = await complete(ask(item));
        inFlight--;
        return response.message.content;
      },
      reduce: (values) => values.join(''),
    });
    assert.equal(reduced, 'ABCDEFG');
    assert.equal(peak, 3);
    assert.equal(result.started, 7);
    assert.equal(result.spent.tokens, 140);
    assert.equal(result.exhausted, null);
  });

  it('starts no agent and sends no call once the token budget is gone', async () => {
    const log: string[] = [];
    const result = await fanOut({
      items: Array.from({ length: 10 }, (_, i) => `item ${i}`),
      model: echoModel(log),
      concurrency: 1,
      limits: { tokens: 50 },
      agent: async ({ item, complete }) => (await complete(ask(item))).message.content,
    });
    // 20 tokens a call: the third call reaches 60 ≥ 50; nothing starts after it.
    assert.deepEqual(log, ['item 0', 'item 1', 'item 2']);
    assert.equal(result.started, 3);
    assert.equal(result.exhausted, 'tokens');
    assert.deepEqual(result.outcomes.map((o) => o.status), ['ok', 'ok', 'cancelled', ...Array<string>(7).fill('not_started')]);
    assert.equal(result.outcomes[5]?.status === 'not_started' && result.outcomes[5].reason, 'tokens');
  });

  it('cancels the agents still running when the dollar budget runs out', async () => {
    const held = heldModel();
    const fast = echoModel();
    let calls = 0;
    const model: ModelClient = { specificationVersion: 'v1', spec: 'test:mixed', complete: (req, opts) => (++calls === 1 ? fast.complete(req, opts) : held.complete(req, opts)) };
    const done = fanOut({
      items: [0, 1, 2, 3, 4, 5],
      model,
      concurrency: 3,
      limits: { dollars: 0.0001 },
      pricing: { promptPerMillion: 5, completionPerMillion: 5 },
      agent: async ({ complete, index }) => {
        // Agent 0 answers at once (20 tokens = $0.0001); agents 1 and 2 are held until then.
        if (index === 0) await held.untilWaiting(2);
        return (await complete(ask(`n${index}`))).message.content;
      },
    });
    const result = await done;
    assert.equal(result.exhausted, 'dollars');
    assert.deepEqual(result.outcomes.map((o) => o.status), ['cancelled', 'cancelled', 'cancelled', 'not_started', 'not_started', 'not_started']);
    assert.equal(result.started, 3);
  });

  it('ends an agent at its own deadline without stopping the others', async () => {
    const result = await fanOut({
      items: ['slow', 'quick'],
      model: echoModel(),
      concurrency: 2,
      agentDeadlineMs: 20,
      // The slow agent never finishes by itself: only the deadline frees its slot.
      agent: async ({ item, complete, signal }) => {
        if (item === 'slow') await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return (await complete(ask(item))).message.content;
      },
    });
    assert.deepEqual(result.outcomes.map((o) => o.status), ['deadline', 'ok']);
    assert.deepEqual(result.values, ['QUICK']);
  });

  it('stops at the wall-time limit: running agents are cancelled, the rest never start', async () => {
    const held = heldModel();
    const result = await fanOut({
      items: [1, 2, 3, 4],
      model: held,
      concurrency: 2,
      limits: { wallMs: 30 },
      agent: async ({ complete }) => (await complete(ask('x'))).message.content,
    });
    assert.equal(result.exhausted, 'wall_time');
    assert.deepEqual(result.outcomes.map((o) => o.status), ['cancelled', 'cancelled', 'not_started', 'not_started']);
  });

  it('reports failures by kind and keeps going', async () => {
    const failing: ModelClient = { specificationVersion: 'v1', spec: 'test:down', complete: async () => ({ ok: false, kind: 'http', message: 'HTTP 503', retryable: true }) };
    const result = await fanOut({
      items: ['infra', 'output', 'ok'],
      model: { specificationVersion: 'v1', spec: 'test:route', complete: (req, opts) => (req.messages[0]?.content === 'infra' ? failing : echoModel()).complete(req, opts) },
      concurrency: 1,
      agent: async ({ item, complete }) => {
        const text = (await complete(ask(item))).message.content;
        if (item === 'output') throw new AgentOutputError('no label in the reply');
        return text;
      },
    });
    assert.deepEqual(
      result.outcomes.map((o) => (o.status === 'failed' ? o.failure.kind : o.status)),
      ['infra', 'output', 'ok'],
    );
  });

  it('stores each agent as a rollout whose first call links to the dispatching call', async () => {
    const store = openStore(':memory:');
    try {
      const run = createAppRun(store, { app: 'test', model: 'test:echo', concurrency: 2 });
      const parentCallId = 'mc_parent' as ModelCallId;
      const result = await fanOut({
        items: ['x', 'y'],
        model: echoModel(),
        concurrency: 2,
        name: (item) => `agent-${item}`,
        recording: { store, runId: run.id, env: 'apps/test', stage: 'classify', parentCallId },
        agent: async ({ item, complete }) => {
          const first = await complete(ask(item));
          const second = await complete({ messages: [{ role: 'user', content: item }, first.message, { role: 'user', content: 'again' }] });
          return second.message.content;
        },
      });
      const rollouts = store.rollouts(run.id);
      assert.deepEqual(rollouts.map((r) => r.taskId).sort(), ['classify/agent-x', 'classify/agent-y']);
      const rolloutId = result.outcomes[0]?.rolloutId;
      assert.ok(rolloutId);
      const calls = store.modelCalls(rolloutId);
      assert.equal(calls.length, 2);
      assert.deepEqual(calls.map((c) => c.purpose), ['subagent', 'subagent']);
      assert.equal(calls[0]?.parentId, parentCallId);
      assert.equal(calls[1]?.parentId, calls[0]?.id);
      assert.equal(calls[1]?.extendsParent, true);
      assert.equal(store.getRollout(rolloutId)?.finalAnswer, 'AGAIN');
    } finally {
      store.close();
    }
  });

  it('stops starting agents when the caller cancels', async () => {
    const controller = new AbortController();
    const result = await fanOut({
      items: [0, 1, 2],
      model: echoModel(),
      concurrency: 1,
      signal: controller.signal,
      agent: async ({ index, complete }) => {
        const text = (await complete(ask(String(index)))).message.content;
        if (index === 0) controller.abort();
        return text;
      },
    });
    assert.deepEqual(result.outcomes.map((o) => o.status), ['cancelled', 'not_started', 'not_started']);
  });

  it('does not let usage counts that are NaN, negative or fractional break the token budget', async () => {
    // A bad prompt count is estimated from the text: 'hello there!' is 12 characters, 3 tokens.
    for (const usage of [{ promptTokens: NaN, completionTokens: 5 }, { promptTokens: -1_000_000, completionTokens: 5 }, { promptTokens: 2.5, completionTokens: 5 }] as Usage[]) {
      const model: ModelClient = {
        specificationVersion: 'v1',
        spec: 'test:bogus-usage',
        complete: async () => ({ ok: true, response: { message: { role: 'assistant', content: 'x', toolCalls: [] }, finishReason: 'stop', usage } }),
      };
      const result = await fanOut({ items: Array.from({ length: 20 }, (_, i) => i), model, concurrency: 1, limits: { tokens: 30 }, agent: async ({ complete }) => (await complete(ask('hello there!'))).message.content });
      const label = JSON.stringify(usage, (_k, v: unknown) => (Number.isNaN(v) ? 'NaN' : v));
      assert.equal(result.exhausted, 'tokens', label);
      assert.ok(Number.isFinite(result.spent.tokens) && result.spent.tokens >= 30, `${label}: spent ${result.spent.tokens}`);
      // 3 estimated prompt tokens and 5 reported completion tokens a call: the fourth reaches 32 ≥ 30.
      assert.equal(result.started, 4, label);
      assert.equal(result.spent.tokens, 32, label);
      assert.equal(result.spent.estimatedCalls, 4, label);
    }
  });

  it('refuses limits and prices that could never stop the spending', () => {
    const now = (): number => 0;
    assert.throws(() => new SharedBudget({ limits: { tokens: NaN }, now }), InputError);
    assert.throws(() => new SharedBudget({ limits: { wallMs: -5 }, now }), InputError);
    assert.throws(() => new SharedBudget({ limits: { dollars: 1 }, pricing: { promptPerMillion: -3, completionPerMillion: 1 }, now }), InputError);
    assert.throws(() => new SharedBudget({ limits: { dollars: 1 }, pricing: { promptPerMillion: 0, completionPerMillion: 0 }, now }), /can never be reached/);
    // A free prompt with a priced completion still counts.
    assert.doesNotThrow(() => new SharedBudget({ limits: { dollars: 1 }, pricing: { promptPerMillion: 0, completionPerMillion: 1 }, now }));
  });

  it('refuses a concurrency that would start no agent rather than reporting them all cancelled', async () => {
    for (const concurrency of [0, -1, NaN, 1.5]) {
      await assert.rejects(fanOut({ items: [1, 2], model: echoModel(), concurrency, agent: async () => 1 }), InputError, String(concurrency));
    }
  });

  describe('under concurrency and hostile agents', () => {
    /** Answers on the next turn of the event loop, so every agent in flight has sent its call first. */
    function laterModel(usage: Usage, log: string[] = []): ModelClient {
      return {
        specificationVersion: 'v1',
        spec: 'test:later',
        complete: async (request) => {
          log.push(request.messages.at(-1)?.content ?? '');
          await new Promise((resolve) => setImmediate(resolve));
          return { ok: true, response: { message: { role: 'assistant', content: 'ok', toolCalls: [] }, finishReason: 'stop', usage } };
        },
      };
    }

    it('sends no more calls at once than the budget can pay for: ten agents in flight overrun it by one call at most, not nine', async () => {
      // Each prompt is 100 characters (about 25 tokens) and each call costs 30: the budget pays for three.
      const log: string[] = [];
      const prompt = (i: number) => `${i}`.padEnd(100, '.');
      const result = await fanOut({
        items: Array.from({ length: 10 }, (_, i) => i),
        model: laterModel({ promptTokens: 25, completionTokens: 5 }, log),
        concurrency: 10,
        limits: { tokens: 100 },
        agent: async ({ item, complete }) => (await complete(ask(prompt(item)))).message.content,
      });
      assert.equal(result.exhausted, 'tokens');
      assert.equal(log.length, 4, 'three fit side by side; the fourth is sent alone once they have paid');
      assert.ok(result.spent.tokens < 100 + 30, `spent ${result.spent.tokens}: more than one call past the limit`);
    });

    it('holds the maxTokens of a call against the budget while it is in flight, so even short prompts cannot all go at once', async () => {
      const log: string[] = [];
      const result = await fanOut({
        items: Array.from({ length: 10 }, (_, i) => i),
        model: laterModel({ promptTokens: 1, completionTokens: 5 }, log),
        concurrency: 10,
        limits: { tokens: 20 },
        agent: async ({ item, complete }) => (await complete({ ...ask(String(item)), sampling: { maxTokens: 5 } })).message.content,
      });
      assert.equal(log.length, 4);
      assert.ok(result.spent.tokens < 20 + 6, `spent ${result.spent.tokens}`);
    });

    it('aborts a call an agent fired and never awaited once the agent ends, so nothing spends after the fan-out reports', async () => {
      const signals: AbortSignal[] = [];
      const model: ModelClient = {
        specificationVersion: 'v1',
        spec: 'test:background',
        complete: (_request, { signal }) => {
          signals.push(signal);
          return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false }), { once: true }));
        },
      };
      const result = await fanOut({
        items: [0],
        model,
        concurrency: 1,
        limits: { tokens: 1_000 },
        agent: async ({ complete }) => {
          void complete(ask('in the background')).catch(() => {});
          return 'done';
        },
      });
      assert.deepEqual(result.values, ['done']);
      assert.equal(signals.length, 1);
      assert.equal(signals[0]?.aborted, true, 'the fired call is still running after the fan-out returned');
    });

    it('stops and waits for every agent before throwing a bug of the caller (a name function that throws)', async () => {
      const held = heldModel();
      const signals: AbortSignal[] = [];
      const model: ModelClient = { specificationVersion: 'v1', spec: 'test:held', complete: (request, options) => (signals.push(options.signal), held.complete(request, options)) };
      await assert.rejects(
        fanOut({
          items: [0, 1],
          model,
          concurrency: 2,
          name: (item) => {
            if (item === 1) throw new Error('bad name for item 1');
            return String(item);
          },
          agent: async ({ complete }) => (await complete(ask('x'))).message.content,
        }),
        /bad name for item 1/,
      );
      assert.equal(signals.length, 1);
      assert.equal(signals[0]?.aborted, true, 'agent 0 was left running when the fan-out threw');
    });

    it('says why the values are partial: the caller cancelled (no budget ran out), the budget, or null when every agent ran', async () => {
      const controller = new AbortController();
      const cancelled = await fanOut({
        items: [0, 1, 2],
        model: echoModel(),
        concurrency: 1,
        signal: controller.signal,
        agent: async ({ index, complete }) => {
          if (index === 1) controller.abort();
          return (await complete(ask(String(index)))).message.content;
        },
      });
      assert.deepEqual([cancelled.exhausted, cancelled.stopped, cancelled.values], [null, 'caller', ['0']]);
      const spent = await fanOut({ items: [0, 1, 2], model: echoModel(), concurrency: 1, limits: { tokens: 20 }, agent: async ({ complete }) => (await complete(ask('x'))).message.content });
      assert.equal(spent.stopped, 'tokens');
      const whole = await fanOut({ items: [0, 1], model: echoModel(), concurrency: 2, agent: async ({ complete }) => (await complete(ask('x'))).message.content });
      assert.equal(whole.stopped, null);
    });

    it('reduces over zero values, with the failures and the reason beside them', async () => {
      const none = await mapReduce({ items: [] as string[], model: echoModel(), concurrency: 4, agent: async () => 'x', reduce: (values, result) => ({ values: values.length, stopped: result.stopped }) });
      assert.deepEqual(none.reduced, { values: 0, stopped: null });
      const failing = await mapReduce({
        items: ['a', 'b'],
        model: echoModel(),
        concurrency: 2,
        agent: async () => {
          throw new TypeError('agent bug');
        },
        reduce: (values, result) => ({ values: values.length, failures: result.outcomes.map((o) => (o.status === 'failed' ? `${o.failure.kind}: ${o.failure.message}` : o.status)) }),
      });
      assert.deepEqual(failing.reduced, { values: 0, failures: ['defect: agent bug', 'defect: agent bug'] });
    });

    it('charges a call whose usage the store refuses to record (NaN), so the budget still runs out, and never stores negative counts', async () => {
      const store = openStore(':memory:');
      try {
        for (const usage of [{ promptTokens: NaN, completionTokens: 5 }, { promptTokens: -1_000_000, completionTokens: 5 }] as Usage[]) {
          const run = createAppRun(store, { app: 'test', model: 'test:bogus-usage', concurrency: 1 });
          const model: ModelClient = {
            specificationVersion: 'v1',
            spec: 'test:bogus-usage',
            complete: async () => ({ ok: true, response: { message: { role: 'assistant', content: 'x', toolCalls: [] }, finishReason: 'stop', usage } }),
          };
          const result = await fanOut({
            items: Array.from({ length: 20 }, (_, i) => i),
            model,
            concurrency: 1,
            limits: { tokens: 30 },
            recording: { store, runId: run.id, env: 'apps/test', stage: 'bogus' },
            agent: async ({ complete }) => (await complete(ask('hello there!'))).message.content,
          });
          const label = String(usage.promptTokens);
          assert.equal(result.exhausted, 'tokens', label);
          assert.equal(result.started, 4, label);
          for (const rollout of store.rollouts(run.id)) assert.ok(rollout.stats.promptTokens >= 0, `${label}: stored ${rollout.stats.promptTokens} prompt tokens`);
        }
      } finally {
        store.close();
      }
    });
  });

  it('keeps no memory per agent once the fan-out is over', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = async (): Promise<number> => {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      return process.memoryUsage().heapUsed;
    };
    const agents = 20_000;
    const before = await settle();
    const result = await fanOut({ items: Array.from({ length: agents }, (_, i) => i), model: echoModel(), concurrency: 50, agentDeadlineMs: 60_000, agent: async ({ complete }) => (await complete(ask('x'))).message.content });
    assert.equal(result.values.length, agents);
    const perAgent = ((await settle()) - before) / agents;
    // The outcomes themselves are a few hundred bytes each; a leaked abort signal per agent was over 3 KB.
    assert.ok(perAgent < 1_000, `${perAgent.toFixed(0)} bytes retained per agent`);
  });

  it('benchmarks against the loopback mock model', async () => {
    const bench = await benchFanout({ agents: 8, latencyMs: 5 });
    assert.equal(bench.ok, 8);
    assert.ok(bench.wallVsIdeal >= 1);
  });
});
