// Episodes that run out of turns or time: judged on their final state and rewarded exactly as
// `gauntlet run` scores the same trajectory, over every transport; a verifier that fails or hangs
// past the deadline's grace is an infrastructure failure, never a score.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { InfraError, RunConfig, Task, type JsonObject, type ModelClient, type Rollout } from '../../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, instantiate, type EnvironmentDefinition } from '../../envs/index.ts';
import { parseRewardConfig } from '../../reward/index.ts';
import { executeRun } from '../../runner/index.ts';
import { openStore } from '../../store/index.ts';
import { counterEnv } from '../../../test/support/counter-env.ts';
import { assistant, functionModel, reply } from '../../../test/support/models.ts';
import { OpenEnvHttpClient, OpenEnvSocket } from '../../../test/support/openenv-client.ts';
import { EpisodeFailure, OpenEnvEpisode, taskCatalog, VERIFY_GRACE_MS } from './episode.ts';
import type { EpisodeEnd, Observation } from './protocol.ts';
import { episodeReward } from './reward.ts';
import { startOpenEnvServer } from './server.ts';

type Json = Record<string, unknown>;
type Call = { tool: string; args: JsonObject };

/** The server's clock in the tests that inject one (ms). */
const clock = { now: 0 };

/** What the `judged` check does before it passes; a test sets it. */
const hook: { verifying: () => void | Promise<void>; calls: number } = { verifying: () => {}, calls: 0 };

function tallyTask(id: string, checks: JsonObject[], limits: { maxTurns: number; deadlineMs: number }): Task {
  return Task.parse({
    id: `tally/${id}`,
    env: 'tally',
    instruction: 'Increment counter a.',
    verifier: { checks },
    golden: { steps: [{ tool: 'increment', arguments: { id: 'a' } }], answer: 'done' },
    tags: { domain: 'counting', difficulty: 'easy' },
    limits,
  });
}

const moved = (delta: number): JsonObject[] => [
  { check: 'counter_delta', id: 'a', delta },
  { check: 'table_unchanged', table: 'counters', except: ['a'] },
];

const TASKS = {
  /** Two increments pass; the third turn is the last. */
  twice: tallyTask('twice', moved(2), { maxTurns: 3, deadlineMs: 60_000 }),
  /** One increment passes; the first turn is the last (HTTP /step plays one action). */
  once: tallyTask('once', moved(1), { maxTurns: 1, deadlineMs: 60_000 }),
  /** Turns to spare: the deadline ends it. */
  slow: tallyTask('slow', moved(2), { maxTurns: 10, deadlineMs: 60_000 }),
  /** Untouched counters pass; a real 100 ms deadline for the stateless transports. */
  brief: tallyTask('brief', moved(0), { maxTurns: 5, deadlineMs: 100 }),
  /** Its verifier runs the test's hook. */
  hooked: tallyTask('hooked', [...moved(1), { check: 'judged' }], { maxTurns: 1, deadlineMs: 60_000 }),
};

const tally = defineEnvironment({
  ...counterEnv,
  name: 'tally',
  tools: {
    ...counterEnv.tools,
    wait: defineTool({
      description: 'Returns only when its call is aborted (at the deadline).',
      input: z.object({}),
      run: (_input, { signal }) => new Promise<string>((resolve) => (signal.aborted ? resolve('stopped') : signal.addEventListener('abort', () => resolve('stopped'), { once: true }))),
    }),
    advance: defineTool({
      description: "Moves the test's clock on by ms: a call that took that long.",
      input: z.object({ ms: z.number().int().min(0) }),
      run: ({ ms }) => {
        clock.now += ms;
        return 'advanced';
      },
    }),
  },
  checks: {
    ...counterEnv.checks,
    judged: defineCheck({
      kind: 'outcome',
      description: "runs the test's hook, then passes",
      params: z.object({}),
      run: async () => {
        hook.calls++;
        await hook.verifying();
        return { passed: true };
      },
    }),
  },
  tasks: () => Object.values(TASKS),
});

const TERMS = {
  outcome: { weight: 1 },
  verifier_checks: { weight: 0.3 },
  tool_errors: { weight: -0.1 },
  repeated_calls: { weight: -0.05 },
  useless_calls: { weight: -0.02 },
  turns: { weight: -0.01 },
};
const REWARD = parseRewardConfig({ terms: TERMS }, 'test');

const increment = (id: string): Call => ({ tool: 'increment', args: { id } });

/** A model that makes one call per turn, then `last` (default: a call that is never reached). */
function callingModel(calls: Call[], last?: (signal: AbortSignal) => Promise<Awaited<ReturnType<ModelClient['complete']>>>): ModelClient {
  return functionModel('test:calls', (i, _request, signal) => {
    const call = calls[i];
    if (call) return reply(assistant({ toolCalls: [{ id: `c${i}`, name: call.tool, arguments: call.args, argumentsText: JSON.stringify(call.args) }] }));
    if (last) return last(signal);
    return reply(assistant({ content: 'done' }));
  });
}

/** A model still generating when the deadline fires (the endpoint is not silent): the turn the deadline cuts short. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<Awaited<ReturnType<ModelClient['complete']>>>((resolve) =>
    signal.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false, silentMs: 0 }), { once: true }),
  );

/** The rollout `gauntlet run` stores for `task` played by `model`, with the same reward. */
async function runPath(task: Task, model: ModelClient, over: Json = {}): Promise<Rollout> {
  const store = openStore(':memory:');
  try {
    const config = RunConfig.parse({ envs: ['tally'], model: 'test', epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1, reward: { terms: TERMS }, ...over });
    const summary = await executeRun({ store, model, threads: 0, sleep: async () => {}, catalog: { names: () => ['tally'], get: () => tally }, run: { resolved: { config, tasks: [task] } } });
    const [rollout] = store.rollouts(summary.runId);
    assert.ok(rollout, 'the run stored its rollout');
    return rollout;
  } finally {
    store.close();
  }
}

interface Ending {
  reward: unknown;
  done: unknown;
  end: EpisodeEnd | null | undefined;
}

/** The ending equals the run's rollout to the bit: reason, verdict, checks, every term and the total. */
function assertSameAsRun(ending: Ending, rollout: Rollout, transport: string): void {
  assert.equal(rollout.status, 'scored', `${transport}: the run scored it`);
  assert.equal(ending.done, true, transport);
  const end = ending.end;
  assert.ok(end, `${transport}: the ending carries episode_end`);
  assert.ok(typeof ending.reward === 'number' && Object.is(ending.reward, rollout.reward), `${transport}: reward ${String(ending.reward)} vs gauntlet run's ${String(rollout.reward)}`);
  assert.equal(end.termination_reason, rollout.terminationReason, transport);
  assert.equal(end.answer, rollout.finalAnswer, transport);
  assert.equal(end.passed, rollout.passed, transport);
  assert.equal(end.verifier_score, rollout.verifier!.score, transport);
  assert.deepEqual(end.checks, rollout.verifier!.checks, transport);
  assert.deepEqual(
    end.reward_terms,
    rollout.rewardTerms.map((t) => ({ name: t.name, value: t.value, weight: t.weight, source: t.source })),
    transport,
  );
}

/** Which task, in which world: the run's rollout seed, so both sides start from the same state. */
interface Pick {
  task: string;
  seed: number;
}

const pickOf = (rollout: Rollout): Pick => ({ task: rollout.taskId, seed: rollout.seed });

type Episodic = (url: string, pick: Pick, calls: Call[], beforeLast?: () => void) => Promise<Ending>;

const rpc = (id: number, call: Call) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: call.tool, arguments: call.args } });

/** An MCP CallToolResult's ending, from its `_meta`. */
function fromMeta(response: unknown, where: string): Ending {
  const result = (response as { result?: { _meta?: Json } }).result;
  assert.ok(result, `${where}: ${JSON.stringify(response)}`);
  const meta = result._meta ?? {};
  // `_meta` carries done, reward and the end only on the call that ended the episode.
  return { reward: meta['openenv/reward'] ?? null, done: meta['openenv/done'] ?? false, end: meta['gauntlet/episode_end'] as EpisodeEnd | undefined };
}

/** Plays the calls in one session; `beforeLast` runs before the last call is sent. */
async function playCalls(calls: Call[], beforeLast: (() => void) | undefined, send: (call: Call, i: number) => Promise<Ending>): Promise<Ending> {
  let ending: Ending | undefined;
  for (const [i, call] of calls.entries()) {
    if (i === calls.length - 1) beforeLast?.();
    else if (ending) assert.equal(ending.done, false, 'the episode ended early');
    ending = await send(call, i);
  }
  return ending!;
}

/** Every session transport: /ws actions, MCP over POST /mcp sessions, WS /mcp and `mcp` messages on /ws. */
const SESSIONS: Record<string, Episodic> = {
  '/ws step': async (url, pick, calls, beforeLast) => {
    const socket = await OpenEnvSocket.connect(url);
    try {
      await socket.reset({ task_id: pick.task, seed: pick.seed });
      return await playCalls(calls, beforeLast, async (call) => {
        const frame = (await socket.step({ type: 'call_tool', tool_name: call.tool, arguments: call.args })) as { type: string; data: { observation: { episode_end?: EpisodeEnd | null }; reward: unknown; done: unknown } };
        assert.equal(frame.type, 'observation', JSON.stringify(frame));
        return { reward: frame.data.reward, done: frame.data.done, end: frame.data.observation.episode_end };
      });
    } finally {
      await socket.close();
    }
  },
  'POST /mcp session': async (url, pick, calls, beforeLast) => {
    const http = new OpenEnvHttpClient(url);
    const created = (await http.rpc('openenv/session/create', { task_id: pick.task, seed: pick.seed })).body as { result: { session_id: string } };
    const session_id = created.result.session_id;
    try {
      return await playCalls(calls, beforeLast, async (call, i) => fromMeta((await http.rpc('tools/call', { session_id, name: call.tool, arguments: call.args }, i + 2)).body, 'POST /mcp'));
    } finally {
      await http.rpc('openenv/session/close', { session_id });
    }
  },
  'WS /mcp': async (url, pick, calls, beforeLast) => {
    const socket = await OpenEnvSocket.connect(url, { path: `/mcp?task_id=${encodeURIComponent(pick.task)}&seed=${pick.seed}` });
    try {
      return await playCalls(calls, beforeLast, async (call, i) => fromMeta(await socket.request(rpc(i + 1, call)), 'WS /mcp'));
    } finally {
      socket.terminate();
      await socket.closed;
    }
  },
  '/ws mcp message': async (url, pick, calls, beforeLast) => {
    const socket = await OpenEnvSocket.connect(url);
    try {
      await socket.reset({ task_id: pick.task, seed: pick.seed });
      return await playCalls(calls, beforeLast, async (call, i) => {
        const frame = (await socket.request({ type: 'mcp', data: rpc(i + 1, call) })) as { type: string; data: unknown };
        assert.equal(frame.type, 'mcp', JSON.stringify(frame));
        return fromMeta(frame.data, '/ws mcp');
      });
    } finally {
      await socket.close();
    }
  },
};

/** The stateless transports: a fresh episode plays one action. */
const STATELESS: Record<string, (url: string, pick: Pick, call: Call) => Promise<Ending>> = {
  'HTTP /step': async (url, pick, call) => {
    const stepped = await new OpenEnvHttpClient(url).step({ action: { type: 'call_tool', tool_name: call.tool, arguments: call.args }, task_id: pick.task, seed: pick.seed });
    assert.equal(stepped.status, 200, JSON.stringify(stepped.body));
    const body = stepped.body as { reward: unknown; done: unknown; observation: { episode_end?: EpisodeEnd | null } };
    return { reward: body.reward, done: body.done, end: body.observation.episode_end };
  },
  'POST /mcp without a session': async (url, pick, call) =>
    fromMeta((await new OpenEnvHttpClient(url).rpc('tools/call', { name: call.tool, arguments: call.args, task_id: pick.task, seed: pick.seed })).body, 'POST /mcp'),
};

async function withServer<T>(options: { env?: EnvironmentDefinition; now?: () => number }, work: (url: string) => Promise<T>): Promise<T> {
  const server = await startOpenEnvServer({ env: options.env ?? tally, port: 0, reward: REWARD, ...(options.now ? { now: options.now } : {}) });
  try {
    return await work(server.url);
  } finally {
    await server.close();
  }
}

describe('OpenEnv episodes that run out of turns or time, against gauntlet run', () => {
  it('rewards an episode that ran out of max_turns as gauntlet run does, over every session transport', async () => {
    const calls = [increment('a'), increment('nope'), increment('a')];
    const rollout = await runPath(TASKS.twice, callingModel(calls));
    assert.equal(rollout.terminationReason, 'max_turns');
    assert.equal(rollout.passed, true, 'the counter moved by two: the final state passes');
    await withServer({}, async (url) => {
      for (const [transport, play] of Object.entries(SESSIONS)) assertSameAsRun(await play(url, pickOf(rollout), calls), rollout, transport);
    });
    // Not a flat 0: the verdict, less a tool error, a repeat, useless calls and three turns.
    assert.ok(rollout.reward! > 1, String(rollout.reward));
  });

  it('rewards a one-action episode that ran out of max_turns as gauntlet run does, over HTTP /step and session-less MCP', async () => {
    const calls = [increment('a')];
    const rollout = await runPath(TASKS.once, callingModel(calls));
    assert.equal(rollout.terminationReason, 'max_turns');
    await withServer({}, async (url) => {
      for (const [transport, play] of Object.entries(STATELESS)) assertSameAsRun(await play(url, pickOf(rollout), calls[0]!), rollout, transport);
    });
  });

  it('rewards an episode whose next action came after the deadline as gauntlet run rewards a model the deadline cut short, over every session transport', async () => {
    // gauntlet run: two increments, then a model turn still generating when the deadline fires.
    const rollout = await runPath(TASKS.slow, callingModel([increment('a'), increment('a')], untilAborted), { deadlineMs: 300 });
    assert.equal(rollout.terminationReason, 'deadline');
    assert.equal(rollout.stats.turns, 3, 'the cut-short turn counts');
    await withServer({ now: () => clock.now }, async (url) => {
      for (const [transport, play] of Object.entries(SESSIONS)) {
        clock.now = 0;
        // The third increment arrives an hour late: it is not run (the counter moved by two, which passes).
        const ending = await play(url, pickOf(rollout), [increment('a'), increment('a'), increment('a')], () => (clock.now += 3_600_000));
        assertSameAsRun(ending, rollout, transport);
      }
    });
  });

  it('rewards an episode whose call the deadline stopped as gauntlet run does, over HTTP /step and session-less MCP', async () => {
    const calls = [{ tool: 'wait', args: {} }];
    const rollout = await runPath(TASKS.brief, callingModel(calls));
    assert.equal(rollout.terminationReason, 'deadline');
    await withServer({}, async (url) => {
      for (const [transport, play] of Object.entries(STATELESS)) assertSameAsRun(await play(url, pickOf(rollout), calls[0]!), rollout, transport);
    });
  });

  it('extends the grace past the deadline by the environment overhead, as gauntlet run does', async () => {
    const slowToVerify = defineEnvironment({ ...tally, overheadMs: () => 5_000 });
    for (const [env, judged] of [
      [tally, false],
      [slowToVerify, true],
    ] as const) {
      await withServer({ env, now: () => clock.now }, async (url) => {
        clock.now = 0;
        const socket = await OpenEnvSocket.connect(url);
        await socket.reset({ task_id: TASKS.slow.id });
        // The call returns 12 s after the deadline: past the grace, within grace plus overhead.
        const frame = (await socket.step({ type: 'call_tool', tool_name: 'advance', arguments: { ms: 60_000 + 12_000 } })) as { type: string; data: Json };
        await socket.close();
        if (judged) {
          assert.equal(frame.type, 'observation', JSON.stringify(frame));
          assert.equal((frame.data.observation as { episode_end: EpisodeEnd }).episode_end.termination_reason, 'deadline');
        } else {
          assert.equal(frame.type, 'error', JSON.stringify(frame));
          assert.deepEqual([frame.data.code, frame.data.failure, frame.data.retryable], ['EXECUTION_ERROR', 'infra', false]);
          assert.match(String(frame.data.message), /did not finish within 10000 ms after its 60000 ms deadline/);
        }
      });
    }
  });
});

const signal = new AbortController().signal;

function hookedEpisode(overheadMs?: number): OpenEnvEpisode {
  return new OpenEnvEpisode({
    environment: instantiate(tally),
    catalog: taskCatalog(Object.values(TASKS)),
    reward: episodeReward(tally, REWARD),
    now: () => clock.now,
    ...(overheadMs !== undefined ? { overheadMs: () => overheadMs } : {}),
  });
}

async function failureOf(step: Promise<unknown>): Promise<EpisodeFailure> {
  const error = await step.then(
    (result) => assert.fail(`expected a failure, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof EpisodeFailure, String(error));
  return error;
}

describe('OpenEnv deadline', () => {
  it('ends the episode when the deadline stops a call, even while the clock reads a moment before it', async () => {
    // The clock stands still; the call is stopped by the deadline's own timer (100 ms), as the agent loop's is by its signal.
    clock.now = 0;
    const episode = hookedEpisode();
    try {
      await episode.reset({ task_id: TASKS.brief.id });
      const stopped = await episode.step({ type: 'call_tool', tool_name: 'wait', arguments: {} }, { signal });
      const observation = stopped.observation as Extract<Observation, { kind: 'call_tool' }>;
      assert.equal(observation.result?.content, 'stopped');
      assert.equal(stopped.done, true);
      assert.equal(observation.episode_end?.termination_reason, 'deadline');
      assert.equal(observation.episode_end?.passed, true, 'the untouched counters pass');
    } finally {
      await episode.close();
    }
  });
});

describe('OpenEnv endings that cannot be judged', () => {
  it('reports a verifier that fails on an episode out of turns as a failure, never a reward', async () => {
    for (const [thrown, failure, retryable] of [
      [new InfraError('sandbox', 'the sandbox went away'), 'infra', true],
      [new Error('check bug'), 'defect', false],
    ] as const) {
      hook.verifying = () => {
        throw thrown;
      };
      clock.now = 0;
      const episode = hookedEpisode();
      try {
        await episode.reset({ task_id: TASKS.hooked.id });
        const error = await failureOf(episode.step({ type: 'call_tool', tool_name: 'increment', arguments: { id: 'a' } }, { signal }));
        assert.deepEqual([error.failure, error.retryable], [failure, retryable]);
        assert.match(error.message, /^verification: /);
        assert.equal(episode.state().done, false, 'not an ending');
        await assert.rejects(episode.step({ type: 'submit', answer: 'done' }, { signal }), /stopped by a failure/);
      } finally {
        hook.verifying = () => {};
        await episode.close();
      }
    }
  });

  it('answers a failing verifier at max_turns in each transport’s error shape', async () => {
    hook.verifying = () => {
      throw new InfraError('sandbox', 'the sandbox went away');
    };
    try {
      await withServer({}, async (url) => {
        const socket = await OpenEnvSocket.connect(url);
        await socket.reset({ task_id: TASKS.hooked.id });
        const ws = (await socket.step({ type: 'call_tool', tool_name: 'increment', arguments: { id: 'a' } })) as { type: string; data: Json };
        await socket.close();
        assert.equal(ws.type, 'error');
        assert.deepEqual([ws.data.code, ws.data.failure, ws.data.source], ['EXECUTION_ERROR', 'infra', 'sandbox']);
        const http = new OpenEnvHttpClient(url);
        const stepped = await http.step({ action: { type: 'call_tool', tool_name: 'increment', arguments: { id: 'a' } }, task_id: TASKS.hooked.id });
        assert.equal(stepped.status, 500);
        assert.match(String((stepped.body as Json).detail), /the sandbox went away/);
        const mcp = (await http.rpc('tools/call', { name: 'increment', arguments: { id: 'a' }, task_id: TASKS.hooked.id })).body as { error: { code: number; data: Json } };
        assert.equal(mcp.error.code, -32603);
        assert.equal(mcp.error.data.failure, 'infra');
      });
    } finally {
      hook.verifying = () => {};
    }
  });

  it('abandons a verification still running the grace after the deadline as an infrastructure failure', async () => {
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    // The verifier starts 1 ms before the bound, then works on past it.
    hook.verifying = () => {
      clock.now += 10;
      return hung;
    };
    clock.now = 0;
    const episode = hookedEpisode();
    try {
      await episode.reset({ task_id: TASKS.hooked.id });
      const error = await failureOf(episode.step({ type: 'call_tool', tool_name: 'advance', arguments: { ms: 60_000 + VERIFY_GRACE_MS - 1 } }, { signal }));
      assert.deepEqual([error.failure, error.source, error.retryable], ['infra', 'environment', false]);
      assert.equal((error.cause as InfraError).kind, 'watchdog');
      assert.match(error.message, /did not finish within 10000 ms after its 60000 ms deadline/);
    } finally {
      release();
      hook.verifying = () => {};
      await episode.close();
    }
  });

  it('does not verify a step whose call returned after the grace was over, as the watchdog would have given up', async () => {
    hook.calls = 0;
    for (const [overheadMs, judged] of [
      [undefined, false],
      [5_000, true],
    ] as const) {
      clock.now = 0;
      const episode = hookedEpisode(overheadMs);
      try {
        await episode.reset({ task_id: TASKS.hooked.id });
        const step = episode.step({ type: 'call_tool', tool_name: 'advance', arguments: { ms: 60_000 + VERIFY_GRACE_MS + 1 } }, { signal });
        if (judged) {
          const end = ((await step).observation as Extract<Observation, { kind: 'call_tool' }>).episode_end;
          assert.equal(end?.termination_reason, 'deadline');
          assert.equal(hook.calls, 1);
        } else {
          assert.match((await failureOf(step)).message, /did not finish within/);
          assert.equal(hook.calls, 0, 'the verifier never ran');
        }
      } finally {
        await episode.close();
      }
    }
  });
});
