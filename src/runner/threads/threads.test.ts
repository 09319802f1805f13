import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { InputError, RunConfig, rolloutIdFor, type ModelCall, type Store } from '../../core/index.ts';
import { getEnvironment, registerEnvironment, unregisterEnvironment } from '../../envs/index.ts';
import { openStore } from '../../store/index.ts';
import { turnCall } from '../../store/test-support.ts';
import { assistant, functionModel, goldenModel, reply } from '../../../test/support/models.ts';
import { selectTasks } from '../resolve.ts';
import { executeRun, type RunSummary } from '../run.ts';
import { RolloutThreads } from './threads.ts';

const resolved = (over: Partial<RunConfig>) => {
  const config = RunConfig.parse({ envs: ['mail', 'notes'], model: 'random', epochs: 2, concurrency: 6, seed: 3, ...over });
  const tasks = selectTasks(config).filter((_, i) => i % 5 === 0);
  return { resolved: { config, tasks } };
};

/** What a rollout's record says, without the run's own identity and timings. */
function recordOf(store: Store, runId: string) {
  return store
    .rollouts(runId)
    .map((r) => ({
      key: `${r.taskId}#${r.epoch}`,
      rollout: { status: r.status, score: r.score, passed: r.passed, reason: r.terminationReason, answer: r.finalAnswer, stats: r.stats, seed: r.seed, attempt: r.attempt, terms: r.rewardTerms },
      calls: store.modelCalls(r.id).map((c: ModelCall) => ({ request: c.request, response: c.response, error: c.error, wire: c.wire?.request, purpose: c.purpose, extends: c.extendsParent })),
      events: store.events(r.id).map((e) => e.type),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

describe('rollout threads', () => {
  it('store exactly what the in-process runner stores for the same run', async () => {
    const inProcess = openStore(':memory:');
    const threaded = openStore(':memory:');
    const run = resolved({});
    const a = await executeRun({ store: inProcess, run, modelEnvironment: { env: {} }, threads: 0 });
    const b = await executeRun({ store: threaded, run, modelEnvironment: { env: {} }, threads: 2 });
    assert.equal(a.rollouts, run.resolved.tasks.length * 2);
    assert.equal(b.status, 'finished');
    assert.ok(a.scored > 0 && a.passed < a.scored, 'the random policy passes some tasks and fails others');
    const [left, right] = [recordOf(inProcess, a.runId), recordOf(threaded, b.runId)];
    assert.ok(left.some((r) => r.calls.length > 1));
    assert.deepEqual(right, left);
    // A call's history is rebuilt from the previous call's messages: the stored request is whole.
    const long = right.find((r) => r.calls.length > 2)!;
    assert.equal(long.calls[2]!.request.messages.length, long.calls[1]!.request.messages.length + 2);
  });

  it('give the run\'s user model to the simulated user (a dead user endpoint is the simulator\'s infra error)', async () => {
    const store = openStore(':memory:');
    const config = RunConfig.parse({ envs: ['mail'], taskIds: ['mail/ask-reply-choice-catering'], model: 'oracle', user: 'openai:http://127.0.0.1:9/v1#user-model', epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1 });
    const summary = await executeRun({ store, run: { resolved: { config, tasks: selectTasks(config) } }, modelEnvironment: { env: {} }, threads: 1 });
    const [rollout] = store.rollouts(summary.runId);
    assert.equal(rollout?.status, 'infra_error');
    assert.equal(rollout?.error?.source, 'user_simulator');
  });

  it('refuse to run with in-process objects injected', async () => {
    const store = openStore(':memory:');
    await assert.rejects(executeRun({ store, run: resolved({}), model: goldenModel, threads: 2 }), (error: unknown) => error instanceof InputError && error.where === 'threads');
  });

  it('refuse a run whose environment the main thread registered without a module file for them to load', async () => {
    const store = openStore(':memory:');
    const source = '/elsewhere/copied-notes.ts';
    registerEnvironment('copied-notes', () => ({ ...getEnvironment('notes'), name: 'copied-notes' }), { source });
    try {
      const config = RunConfig.parse({ envs: ['copied-notes'], model: 'oracle', epochs: 1, concurrency: 1, seed: 0 });
      const tasks = selectTasks({ envs: ['notes'] }).slice(0, 1).map((task) => ({ ...task, env: 'copied-notes' }));
      await assert.rejects(
        executeRun({ store, run: { resolved: { config, tasks } }, modelEnvironment: { env: {} }, threads: 1 }),
        (error: unknown) => error instanceof InputError && error.where === 'rollout thread' && /environment "copied-notes" unknown there \(it was given no environment module\)/.test(error.problem),
      );
      assert.deepEqual(store.listRuns(), [], 'the run never started');
    } finally {
      unregisterEnvironment('copied-notes', source);
    }
  });

  it('report a model client they cannot build as the in-process runner does', async () => {
    const store = openStore(':memory:');
    await assert.rejects(executeRun({ store, run: resolved({ model: 'minimax:MiniMax-M2' }), modelEnvironment: { env: {} }, threads: 2 }), (error: unknown) => error instanceof InputError && /MINIMAX_API_KEY/.test(error.message));
  });

  for (const where of ['memory', 'a file'] as const) {
    it(`leave every rollout in flight missing when the run is cancelled (store in ${where})`, async () => {
      // A model server that never answers: every rollout is waiting on it when the run is cancelled.
      const server = spawn(process.execPath, ['-e', "const s=require('node:http').createServer(()=>{});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const port = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
        const dir = mkdtempSync(join(tmpdir(), 'gauntlet-threads-'));
        const store = openStore(where === 'memory' ? ':memory:' : join(dir, 'g.db'));
        const cancel = new AbortController();
        let requests = 0;
        const run = resolved({ model: `openai:http://127.0.0.1:${port.trim()}/v1#m`, epochs: 1 });
        const summary = await executeRun({
          store,
          run,
          modelEnvironment: { env: {} },
          threads: 2,
          signal: cancel.signal,
          onProgress: () => {
            // The first report comes once the threads are up and the rollouts are dispatched.
            if (requests++ === 0) cancel.abort(new Error('stop'));
          },
        });
        assert.equal(summary.status, 'interrupted');
        assert.equal(summary.rollouts, 0);
        assert.equal(summary.missing, run.resolved.tasks.length);
        assert.deepEqual(store.rollouts(summary.runId), []);
        store.close();
        rmSync(dir, { recursive: true, force: true });
      } finally {
        server.kill();
      }
    });
  }
});

describe('rollout threads on a store file', () => {
  it('store their own rollouts: the records the in-process runner stores, none written by the main thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-threads-'));
    const inProcess = openStore(join(dir, 'in-process.db'));
    const threaded = openStore(join(dir, 'threaded.db'));
    try {
      // Every write of a rollout's records on this thread goes through these two.
      let mainThreadWrites = 0;
      const recorder = threaded.recorder.bind(threaded);
      threaded.recorder = (identity) => (mainThreadWrites++, recorder(identity));
      const commitRollouts = threaded.commitRollouts.bind(threaded);
      threaded.commitRollouts = (rollouts) => ((mainThreadWrites += rollouts.length), commitRollouts(rollouts));
      const run = resolved({});
      const a = await executeRun({ store: inProcess, run, modelEnvironment: { env: {} }, threads: 0 });
      const b = await executeRun({ store: threaded, run, modelEnvironment: { env: {} }, threads: 2 });
      assert.equal(b.status, 'finished');
      assert.equal(b.rollouts, a.rollouts);
      assert.equal(mainThreadWrites, 0);
      assert.deepEqual(recordOf(threaded, b.runId), recordOf(inProcess, a.runId));
    } finally {
      inProcess.close();
      threaded.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A run created, then its process gone during attempt 1 (two agent calls, a judge's, a tool call, no record), then resumed on one thread. */
  async function resumeAfterDeath(stores: { before: () => Store; after: (before: Store) => Store }) {
    const { resolved: r } = resolved({ model: 'oracle', epochs: 1, concurrency: 1 });
    const run = { resolved: { config: r.config, tasks: r.tasks.slice(0, 1) } };
    const task = run.resolved.tasks[0]!;
    const before = stores.before();
    const first = await executeRun({ store: before, run, modelEnvironment: { env: {} }, threads: 0, signal: AbortSignal.abort() });
    const ids = { runId: first.runId, rolloutId: rolloutIdFor(first.runId, task.id, 0) };
    const answered = (index: number, over: Partial<ModelCall> = {}) =>
      turnCall(ids, index, { response: { message: { role: 'assistant', content: '', toolCalls: [] }, finishReason: 'stop', usage: { promptTokens: 70, completionTokens: 7 } }, ...over });
    const dead = before.recorder({ ...ids, attempt: 1 });
    dead.modelCall(answered(0));
    dead.event('tool_call', { id: 'c0', name: 'search', arguments: '{}' });
    dead.modelCall(answered(1));
    dead.modelCall(answered(100_000, { purpose: 'judge', parentId: null }));
    const store = stores.after(before);
    try {
      const resumed = await executeRun({ store, run: { resume: first.runId }, modelEnvironment: { env: {} }, threads: 1 });
      const rollout = store.getRollout(ids.rolloutId)!;
      assert.equal(rollout.attempt, 2);
      const own = store.modelCalls(ids.rolloutId).filter((c) => c.attempt === 2 && c.purpose !== 'judge' && c.purpose !== 'user');
      const ownTools = store.events(ids.rolloutId).filter((e) => e.attempt === 2 && e.type === 'tool_call').length;
      const tokens = (field: 'promptTokens' | 'completionTokens') => own.reduce((n, c) => n + (c.response?.usage[field] ?? 0), 0);
      const spent = { attempts: 2, modelCalls: 2 + own.length, toolCalls: 1 + ownTools, promptTokens: 140 + tokens('promptTokens'), completionTokens: 14 + tokens('completionTokens') };
      assert.deepEqual(rollout.spent, spent);
      assert.deepEqual(resumed.spent, spent);
    } finally {
      store.close();
    }
  }

  it('count in a rollout\'s spend the attempts an earlier process stored before it died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-threads-'));
    const path = join(dir, 'g.db');
    try {
      await resumeAfterDeath({
        before: () => openStore(path),
        after: (before) => {
          before.close();
          return openStore(path);
        },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('count the earlier attempts too when the threads record into memory (a store they cannot open)', async () => {
    await resumeAfterDeath({ before: () => openStore(':memory:'), after: (before) => before });
  });

  it('stop the run when a thread cannot store (a full disk); what is stored stays whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-threads-'));
    const path = join(dir, 'small.db');
    const store = openStore(path, { maxPageCount: 120 });
    try {
      const summary = await executeRun({ store, run: resolved({}), modelEnvironment: { env: {} }, threads: 2 });
      assert.equal(summary.status, 'interrupted');
      assert.match(summary.failure ?? '', /full/);
      assert.ok(summary.failure?.includes(path), 'the error names the store');
      assert.ok(summary.missing > 0);
      for (const rollout of store.rollouts(summary.runId)) assert.equal(store.modelCalls(rollout.id).filter((c) => c.attempt === rollout.attempt).length, rollout.stats.modelCalls);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a rollout thread without the bundle', () => {
  it('loads the sources and runs a rollout', async () => {
    const { RolloutThreads } = await import('./threads.ts');
    const { resolved: r } = resolved({ model: 'oracle', epochs: 1 });
    const pool = await RolloutThreads.start({ count: 1, init: { runId: 'run_20260101T000000Z_abcdef' as never, config: r.config, env: {}, graceMs: 1000 }, load: 'sources' });
    try {
      const result = await pool.run({ task: r.tasks[0]!, epoch: 0, firstAttempt: 1 });
      assert.ok(result && 'sessions' in result, 'a record for the main thread to store');
      assert.equal(result?.rollout.status, 'scored');
      assert.equal(result?.rollout.passed, true);
      assert.ok(result.sessions[0]!.entries.some((e) => e.kind === 'call'));
    } finally {
      await pool.close();
    }
  });

  it('adds what the main thread says the earlier attempts spent to a rollout it records in memory', async () => {
    const { RolloutThreads } = await import('./threads.ts');
    const { resolved: r } = resolved({ model: 'oracle', epochs: 1 });
    const pool = await RolloutThreads.start({ count: 1, init: { runId: 'run_20260101T000000Z_abcdef' as never, config: r.config, env: {}, graceMs: 1000 }, load: 'sources' });
    try {
      const earlier = { attempts: 2, modelCalls: 5, toolCalls: 3, promptTokens: 700, completionTokens: 70 };
      const result = await pool.run({ task: r.tasks[0]!, epoch: 0, firstAttempt: 3, earlier });
      assert.ok(result && 'sessions' in result);
      const { rollout } = result;
      assert.equal(rollout.attempt, 3);
      const calls = result.sessions.flatMap((s) => s.entries.flatMap((e) => (e.kind === 'call' && e.call.purpose !== 'judge' ? [e.call] : [])));
      const tools = result.sessions.flatMap((s) => s.entries.filter((e) => e.kind === 'event' && e.event.type === 'tool_call')).length;
      assert.deepEqual(rollout.spent, {
        attempts: 3,
        modelCalls: 5 + calls.length,
        toolCalls: 3 + tools,
        promptTokens: 700 + calls.reduce((n, c) => n + (c.response?.usage.promptTokens ?? 0), 0),
        completionTokens: 70 + calls.reduce((n, c) => n + (c.response?.usage.completionTokens ?? 0), 0),
      });
    } finally {
      await pool.close();
    }
  });
});

describe('rollout threads\' priority', () => {
  it('is below the main thread\'s on Linux, so the main thread gets a core first', { skip: process.platform !== 'linux' && 'nice levels are per thread only on Linux' }, async () => {
    const { RolloutThreads } = await import('./threads.ts');
    const { ROLLOUT_THREAD_NICENESS } = await import('./priority.ts');
    const { resolved: r } = resolved({ model: 'oracle', epochs: 1 });
    const main = getPriority(process.pid);
    const pool = await RolloutThreads.start({ count: 2, init: { runId: 'run_20260101T000000Z_abcdef' as never, config: r.config, env: {}, graceMs: 1000 } });
    try {
      const expected = Math.min(19, main + ROLLOUT_THREAD_NICENESS);
      assert.deepEqual(pool.niceness, [expected, expected]);
      // What the kernel says, thread by thread: two threads lowered, the main one untouched.
      const nice = readdirSync('/proc/self/task').map((tid) => ({ tid: Number(tid), nice: Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[16]) }));
      assert.equal(nice.filter((t) => t.nice === expected).length, 2);
      assert.equal(nice.find((t) => t.tid === process.pid)?.nice, main);
      assert.equal(getPriority(process.pid), main);
    } finally {
      await pool.close();
    }
  });
});

describe('the automatic thread count', () => {
  it('uses threads only for many rollouts at once on machines with cores to spare', async () => {
    const { threadCount } = await import('./threads.ts');
    assert.equal(threadCount('auto', 1000, 2), 0);
    assert.equal(threadCount('auto', 99, 16), 0);
    assert.equal(threadCount('auto', 100, 4), 3);
    assert.equal(threadCount('auto', 1000, 16), 4);
    assert.equal(threadCount(3, 2, 2), 2, 'never more threads than rollouts in flight');
    assert.equal(threadCount(0, 1000, 16), 0);
  });
});

describe('a rollout thread that dies mid-run', () => {
  /** Runs against a model server that never answers, and once the rollouts are in flight, `kill`s the first thread. */
  async function runKilling(kill: (worker: Worker) => void) {
    const server = spawn(process.execPath, ['-e', "const s=require('node:http').createServer(()=>{});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const start = RolloutThreads.start;
    try {
      const port = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
      let pool: RolloutThreads | undefined;
      RolloutThreads.start = async (options) => (pool = await start.call(RolloutThreads, options));
      const store = openStore(':memory:');
      const run = resolved({ model: `openai:http://127.0.0.1:${port.trim()}/v1#m`, epochs: 1 });
      let killed = false;
      const summary = await executeRun({
        store,
        run,
        modelEnvironment: { env: {} },
        threads: 2,
        onProgress: () => {
          if (killed) return;
          killed = true;
          // The first report comes once the rollouts are dispatched; the threads' workers are theirs to reach only here.
          kill((pool as unknown as { threads: { worker: Worker }[] }).threads[0]!.worker);
        },
      });
      return { store, summary, total: run.resolved.tasks.length };
    } finally {
      RolloutThreads.start = start;
      server.kill();
    }
  }

  async function assertResumable(store: Store, summary: RunSummary, total: number) {
    assert.equal(store.getRun(summary.runId)?.status, 'interrupted', 'not left running');
    // Resumed (on this thread, with a model that answers at once): every rollout, each stored once.
    const answers = functionModel('test:answers', () => reply(assistant({ content: 'done' })));
    const resumed = await executeRun({ store, run: { resume: summary.runId }, model: answers });
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.rollouts, total);
    assert.equal(new Set(store.rollouts(summary.runId).map((r) => `${r.taskId}#${r.epoch}`)).size, total);
  }

  it('stops the run as interrupted, naming the thread, and --resume runs what it left', async () => {
    const { store, summary, total } = await runKilling((worker) => void worker.terminate());
    assert.equal(summary.status, 'interrupted');
    assert.match(summary.failure ?? '', /rollout thread 0 exited/);
    assert.equal(summary.missing, total - summary.rollouts);
    await assertResumable(store, summary, total);
  });

  it('throwing undefined at its top level does not take the main thread down with it', async () => {
    // What Node does when a thread throws `undefined` outside any handler: an 'error' event carrying it, then the exit.
    const { store, summary, total } = await runKilling((worker) => {
      worker.emit('error', undefined);
      void worker.terminate();
    });
    assert.equal(summary.status, 'interrupted');
    assert.match(summary.failure ?? '', /rollout thread 0 failed: it threw undefined/);
    await assertResumable(store, summary, total);
  });
});
