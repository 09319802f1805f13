import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { RunConfig, Task, type AttemptIdentity, type ModelCall, type Rollout, type RolloutRecorder, type RunId } from '../core/index.ts';
import { defineCheck, defineEnvironment, defineTool } from '../envs/index.ts';
import { openStore, type SqliteStore } from '../store/index.ts';
import { counterCatalog, counterEnv, counterTasks } from '../../test/support/counter-env.ts';
import { assistant, functionModel, goldenModel, reply } from '../../test/support/models.ts';
import { selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

const config = (over: Partial<RunConfig> = {}): RunConfig =>
  RunConfig.parse({ envs: ['counter'], model: 'test', epochs: 2, concurrency: 4, seed: 7, ...over });
/** A new run of the counter tasks the config selects (resolved without the model-spec check: tests pass clients). */
const fresh = (c: RunConfig) => ({ resolved: { config: c, tasks: selectTasks(c, counterCatalog) } });
const base = { catalog: counterCatalog, sleep: async () => {} };

/** Whether each run moved the store's writes to its thread, in order. */
function writerMoves(store: SqliteStore): boolean[] {
  const moves: boolean[] = [];
  const writeOffThread = store.writeOffThread.bind(store);
  store.writeOffThread = () => {
    const moved = writeOffThread();
    moves.push(moved);
    return moved;
  };
  return moves;
}

describe('runner', () => {
  it('runs every task for every epoch and scores the golden model as passing', async () => {
    const store = openStore(':memory:');
    const summary = await executeRun({ ...base, store, model: goldenModel, run: fresh(config()) });
    assert.equal(summary.rollouts, 6);
    assert.equal(summary.scored, 6);
    assert.equal(summary.passRate, 1);
    assert.equal(summary.terminationReasons.answered, 6);
    const rollouts = store.rollouts(summary.runId);
    assert.equal(new Set(rollouts.map((r) => r.id)).size, 6);
    const calls = store.modelCalls(rollouts[0]!.id);
    assert.equal(calls.length, 3);
    // The stored request is rebuilt exactly from its delta: call 3 saw both earlier assistant turns.
    assert.equal(calls[2]!.request.messages.filter((m) => m.role === 'assistant').length, 2);
    assert.equal(calls[2]!.request.messages[2]!.role, 'assistant');
    assert.equal(calls[1]!.parentId, calls[0]!.id);
  });

  it('stores in-process rollouts that finish in the same loop turn in one transaction', async () => {
    const store = openStore(':memory:');
    const commits: number[] = [];
    const commitRollouts = store.commitRollouts.bind(store);
    store.commitRollouts = (rollouts) => (commits.push(rollouts.length), commitRollouts(rollouts));
    store.commitRollout = (rollout) => (commits.push(1), commitRollouts([rollout]));
    // Every model answer resolves at once, so the eight rollouts finish in the same loop turn.
    const summary = await executeRun({ ...base, store, model: goldenModel, threads: 0, run: fresh(config({ epochs: 8, concurrency: 24, taskIds: ['counter/a'] })) });
    assert.equal(summary.scored, 8);
    assert.equal(commits.reduce((a, b) => a + b, 0), 8);
    assert.ok(commits.length < 8, `8 rollouts in ${commits.length} transactions`);
    assert.equal(store.rollouts(summary.runId).length, 8);
  });

  it('writes a run of many in-process rollouts from a thread of the store, and stores every one with its calls', async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'gauntlet-writer-')), 'g.db'));
    const offThread = writerMoves(store);
    const asyncCommits: number[] = [];
    const commitRolloutsAsync = store.commitRolloutsAsync.bind(store);
    store.commitRolloutsAsync = (rollouts) => (asyncCommits.push(rollouts.length), commitRolloutsAsync(rollouts));
    const summary = await executeRun({ ...base, store, model: goldenModel, threads: 0, run: fresh(config({ epochs: 120, concurrency: 120, taskIds: ['counter/a'] })) });
    assert.deepEqual(offThread, [true], 'a hundred or more rollouts at once move the writes');
    assert.equal(asyncCommits.reduce((a, b) => a + b, 0), 120, 'every rollout committed through the thread');
    assert.equal(summary.scored, 120);
    const rollouts = store.rollouts(summary.runId);
    assert.equal(rollouts.length, 120);
    for (const rollout of rollouts) assert.equal(store.modelCalls(rollout.id).length, 3, rollout.id);
    // The run gave the writes back: a commit now is written here, at once.
    const small = await executeRun({ ...base, store, model: goldenModel, threads: 0, run: fresh(config({ epochs: 2, concurrency: 2, taskIds: ['counter/a'] })) });
    assert.deepEqual(offThread, [true], 'two rollouts do not');
    assert.equal(store.rollouts(small.runId).length, 2);
    store.close();
  });

  it('writes a run of many rollouts a few at a time from the thread too, starting the next rollout while the last commit is written', async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'gauntlet-writer-')), 'g.db'));
    const offThread = writerMoves(store);
    // Rollouts begun (their attempt's recorder made) and committed (their commit written).
    let begun = 0;
    let written = 0;
    let mostUnwritten = 0;
    const recorder = store.recorder.bind(store);
    store.recorder = (identity) => {
      begun++;
      mostUnwritten = Math.max(mostUnwritten, begun - written);
      return recorder(identity);
    };
    const commitRolloutsAsync = store.commitRolloutsAsync.bind(store);
    store.commitRolloutsAsync = (rollouts) => commitRolloutsAsync(rollouts).then(() => void (written += rollouts.length));
    const summary = await executeRun({ ...base, store, model: goldenModel, threads: 0, run: fresh(config({ epochs: 120, concurrency: 4, taskIds: ['counter/a'] })) });
    assert.deepEqual(offThread, [true], 'a run of a hundred or more rollouts moves the writes, however few run at once');
    assert.equal(summary.scored, 120);
    assert.equal(written, 120);
    const rollouts = store.rollouts(summary.runId);
    assert.equal(rollouts.length, 120);
    for (const rollout of rollouts) assert.equal(store.modelCalls(rollout.id).length, 3, rollout.id);
    // Waiting out each commit, a slot's next rollout began only once its last was written: never
    // more than 4 begun and not yet written. At most 4 commits wait beside 4 running rollouts.
    assert.ok(mostUnwritten > 4, `at most ${mostUnwritten} rollouts begun and not yet written`);
    assert.ok(mostUnwritten <= 8, `${mostUnwritten} rollouts begun and not yet written`);
    store.close();
  });

  it('fails a run whose commit fails with something other than the store, rather than lose it while the next rollouts run', async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'gauntlet-writer-')), 'g.db'));
    const commitRolloutsAsync = store.commitRolloutsAsync.bind(store);
    let commits = 0;
    store.commitRolloutsAsync = (rollouts) => (++commits === 3 ? Promise.reject(new Error('a bug in the commit')) : commitRolloutsAsync(rollouts));
    await assert.rejects(executeRun({ ...base, store, model: goldenModel, threads: 0, run: fresh(config({ epochs: 120, concurrency: 4, taskIds: ['counter/a'] })) }), /a bug in the commit/);
    store.close();
  });

  it('scores a model that acts wrongly as failed, with the reason it stopped', async () => {
    const store = openStore(':memory:');
    const idle = functionModel('test:idle', () => reply(assistant({ content: 'I did it.' })));
    const summary = await executeRun({ ...base, store, model: idle, run: fresh(config({ epochs: 1 })) });
    assert.equal(summary.scored, 3);
    assert.equal(summary.passed, 0);
    assert.equal(summary.terminationReasons.answered, 3);
  });

  it('turns repeated malformed tool calls into invalid_output, scored 0', async () => {
    const store = openStore(':memory:');
    const broken = functionModel('test:broken', () =>
      reply(assistant({ toolCalls: [{ id: 'x', name: 'increment', arguments: null, argumentsText: '{"id": ', parseError: 'Unexpected end of JSON input' }] })),
    );
    const summary = await executeRun({ ...base, store, model: broken, run: fresh(config({ epochs: 1 })) });
    assert.equal(summary.terminationReasons.invalid_output, 3);
    assert.equal(summary.scored, 3);
    assert.equal(summary.passRate, 0);
    const rollout = store.rollouts(summary.runId)[0]!;
    const calls = store.modelCalls(rollout.id);
    const toolReply = calls[1]!.request.messages.at(-1)!;
    assert.equal(toolReply.role, 'tool');
    assert.match(toolReply.content, /could not parse the arguments/);
  });

  it('retries infra errors, then records infra_error without a score, and finishes the rest', async () => {
    const store = openStore(':memory:');
    let calls = 0;
    const flaky = functionModel('test:flaky', (i, request) => {
      const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
      if (user.includes('counter b')) {
        calls++;
        return { ok: false, kind: 'http', message: 'HTTP 500', retryable: true };
      }
      return goldenModel.complete(request, { signal: new AbortController().signal });
    });
    const summary = await executeRun({ ...base, store, model: flaky, run: fresh(config({ epochs: 1, maxAttempts: 3 })) });
    assert.equal(calls, 3);
    assert.equal(summary.infraErrors, 1);
    assert.equal(summary.scored, 2);
    assert.equal(summary.passRate, 1);
    const bad = store.rollouts(summary.runId).find((r) => r.taskId === 'counter/b')!;
    // What the summary counts, read from the store's columns, is what the whole records say.
    const outcome = ({ id, taskId, epoch, status, terminationReason, score, passed, error }: Rollout) => ({ id, taskId, epoch, status, terminationReason, score, passed, error });
    assert.deepEqual(store.rolloutOutcomes(summary.runId), store.rollouts(summary.runId).map(outcome));
    assert.equal(bad.score, null);
    assert.equal(bad.passed, null);
    assert.equal(bad.attempt, 3);
    assert.equal(bad.error?.kind, 'http');
  });

  it('ends a slow model at the deadline (scored) and a hung tool by the watchdog (infra)', async () => {
    const store = openStore(':memory:');
    // A model that keeps "generating" (the endpoint is not silent) until the deadline.
    const slow = functionModel('test:slow', (_i, _r, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false, silentMs: 0 }))));
    const summary = await executeRun({ ...base, store, model: slow, run: fresh(config({ epochs: 1, deadlineMs: 100 })) });
    assert.equal(summary.terminationReasons.deadline, 3);
    assert.equal(summary.scored, 3);
    const hanger = functionModel('test:hang', () => reply(assistant({ toolCalls: [{ id: 'h', name: 'hang', arguments: {}, argumentsText: '{}' }] })));
    const hung = await executeRun({ ...base, store, model: hanger, graceMs: 50, run: fresh(config({ epochs: 1, deadlineMs: 100, maxAttempts: 1 })) });
    assert.equal(hung.infraErrors, 3);
    const rollout = store.rollouts(hung.runId)[0]!;
    assert.match(rollout.error!.message, /did not stop/);
    assert.equal(rollout.error!.kind, 'watchdog');
  });

  it('classifies a deadline that fires while the endpoint is silent as infra_error, not the model\'s deadline', async () => {
    const store = openStore(':memory:');
    const silent = functionModel('test:silent', (_i, _r, signal) =>
      new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, kind: 'aborted', message: 'aborted', retryable: false, silentMs: 10_000 }))),
    );
    const summary = await executeRun({ ...base, store, model: silent, run: fresh(config({ epochs: 1, deadlineMs: 100, maxAttempts: 1, taskIds: ['counter/a'] })) });
    assert.equal(summary.infraErrors, 1);
    assert.equal(summary.scored, 0);
    const rollout = store.rollouts(summary.runId)[0]!;
    assert.equal(rollout.error?.kind, 'silent_endpoint');
    assert.equal(rollout.error?.source, 'model');
  });

  it('counts into its progress the tokens every finished rollout spent, retried attempts included', async () => {
    const store = openStore(':memory:');
    // Each rollout's first attempt answers one turn and then loses its endpoint; the retry plays it through.
    const firstTries = new Set<string>();
    const flaky = functionModel('test:flaky', (i, request, signal) => {
      const key = JSON.stringify(request.messages[1]);
      if (i === 1 && !firstTries.has(key)) {
        firstTries.add(key);
        return { ok: false, kind: 'connection', message: 'connection reset', retryable: true };
      }
      return goldenModel.complete(request, { signal });
    });
    const seen: number[] = [];
    const summary = await executeRun({ ...base, store, model: flaky, run: fresh(config({ epochs: 1, concurrency: 1, maxAttempts: 2 })), onProgress: (p) => seen.push(p.tokens) });
    assert.equal(summary.scored, summary.rollouts);
    const tokens = store.rollouts(summary.runId).reduce((n, r) => n + r.spent!.promptTokens + r.spent!.completionTokens, 0);
    assert.ok(store.rollouts(summary.runId).every((r) => r.spent!.attempts === 2 && r.spent!.promptTokens > r.stats.promptTokens), 'the retried attempts spent tokens too');
    assert.equal(seen.at(-1), tokens);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
  });

  it('resumes an interrupted run and ends with every rollout exactly once', async () => {
    const store = openStore(':memory:');
    const controller = new AbortController();
    let finished = 0;
    const first = await executeRun({
      ...base,
      store,
      model: goldenModel,
      run: fresh(config({ epochs: 3, concurrency: 1 })),
      signal: controller.signal,
      onProgress: (p) => {
        finished = p.done;
        if (p.done >= 4) controller.abort();
      },
    });
    assert.equal(first.status, 'interrupted');
    assert.ok(finished >= 4 && first.rollouts < 9);
    const resumed = await executeRun({ ...base, store, model: goldenModel, run: { resume: first.runId } });
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.rollouts, 9);
    assert.equal(resumed.missing, 0);
    assert.equal(new Set(store.rollouts(first.runId).map((r) => `${r.taskId}:${r.epoch}`)).size, 9);
  });

  it('runs the rollouts stored as infra errors again only when the resume asks for it, each still stored once', async () => {
    const store = openStore(':memory:');
    const down = functionModel('test:down', () => ({ ok: false, kind: 'connection', message: 'connection refused', retryable: true }));
    const first = await executeRun({ ...base, store, model: down, run: fresh(config({ epochs: 2, maxAttempts: 2 })) });
    assert.equal(first.infraErrors, 6);
    // A plain resume leaves them: nothing is missing.
    const plain = await executeRun({ ...base, store, model: goldenModel, run: { resume: first.runId } });
    assert.equal(plain.infraErrors, 6);
    assert.equal(plain.scored, 0);
    const retried = await executeRun({ ...base, store, model: goldenModel, run: { resume: first.runId, retryInfraErrors: true } });
    assert.equal(retried.status, 'finished');
    assert.equal(retried.rollouts, 6);
    assert.equal(retried.infraErrors, 0);
    assert.equal(retried.scored, 6);
    assert.equal(retried.passRate, 1);
    const rollouts = store.rollouts(first.runId);
    assert.equal(new Set(rollouts.map((r) => r.id)).size, 6);
    for (const rollout of rollouts) {
      // The failed attempts' records stay; the new attempt comes after them.
      assert.equal(rollout.attempt, 3);
      const calls = store.modelCalls(rollout.id);
      assert.deepEqual([...new Set(calls.map((c) => c.attempt))], [1, 2, 3]);
      assert.ok(calls.filter((c) => c.attempt < 3).every((c) => c.error?.kind === 'connection'));
      assert.deepEqual([...new Set(store.events(rollout.id).map((e) => e.attempt))].sort(), [1, 2, 3]);
    }
    // Nothing left to retry: a second retrying resume runs nothing.
    const again = await executeRun({ ...base, store, model: down, run: { resume: first.runId, retryInfraErrors: true } });
    assert.equal(again.scored, 6);
    assert.equal(store.rollouts(first.runId).every((r) => r.attempt === 3), true);
  });

  it('is finished, not interrupted, when the signal comes once every rollout is stored', async () => {
    const store = openStore(':memory:');
    const controller = new AbortController();
    const summary = await executeRun({ ...base, store, model: goldenModel, run: fresh(config({ epochs: 2, concurrency: 1, taskIds: ['counter/a'] })), signal: controller.signal, onProgress: (p) => p.done === p.total && controller.abort() });
    assert.equal(controller.signal.aborted, true);
    assert.equal(summary.rollouts, 2);
    assert.equal(summary.status, 'finished');
    assert.equal(store.getRun(summary.runId)?.status, 'finished');
  });

  it('stores the tasks it ran, and resumes with them even when the definitions changed since', async () => {
    const store = openStore(':memory:');
    const controller = new AbortController();
    const first = await executeRun({ ...base, store, model: goldenModel, run: fresh(config({ epochs: 2, concurrency: 1, taskIds: ['counter/a'] })), signal: controller.signal, onProgress: (p) => p.done >= 1 && controller.abort() });
    assert.deepEqual(store.runTasks(first.runId).map((s) => s.task), [counterTasks[0]]);
    // Today the task asks for something else; the run keeps what it started with.
    const edited = { ...counterEnv, tasks: () => counterTasks.map((t) => Task.parse({ ...t, instruction: `${t.instruction} Then stop.` })) };
    const notes: string[] = [];
    const resumed = await executeRun({
      ...base,
      catalog: { names: () => ['counter'], get: () => edited },
      store,
      model: goldenModel,
      run: { resume: first.runId },
      onStart: (_run, n) => notes.push(...n.drift.map((d) => `${d.taskId}:${d.change}`)),
    });
    assert.equal(resumed.rollouts, 2);
    assert.deepEqual(notes, ['counter/a:changed']);
    const last = store.rollouts(first.runId).at(-1)!;
    const user = store.modelCalls(last.id)[0]!.request.messages.find((m) => m.role === 'user')!;
    assert.equal(user.content, counterTasks[0]!.instruction);
  });

  it('refuses a second process executing the same run while the first holds its lease', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-lease-')), 'g.db');
    const store = openStore(path);
    // Another process on this host (pid 1 is always alive) opening the same store.
    const other = openStore(path, { lease: { holder: { host: hostname(), pid: 1 } } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const waiting = functionModel('test:wait', async (i, request) => {
      started();
      await gate;
      return goldenModel.complete(request, { signal: new AbortController().signal });
    });
    let runId: RunId | undefined;
    const first = executeRun({ ...base, store, model: waiting, run: fresh(config({ epochs: 1, concurrency: 1, taskIds: ['counter/a'] })), onStart: (run) => (runId = run.id) });
    await running;
    await assert.rejects(executeRun({ ...base, store: other, model: goldenModel, run: { resume: runId! } }), new RegExp(`run ${runId} is being executed by process ${process.pid}`));
    release();
    const done = await first;
    assert.equal(done.status, 'finished');
    // Once released, the other process may resume it (nothing is left to run).
    const again = await executeRun({ ...base, store: other, model: goldenModel, run: { resume: runId! } });
    assert.equal(again.rollouts, 1);
    store.close();
    other.close();
  });

  it('continues after an answer when the environment has a follow-up user turn', async () => {
    const store = openStore(':memory:');
    const followUps = ['Also say which counter you changed.', null];
    const withFollowUp = { ...counterEnv, followUp: (_ctx: unknown, _answer: string, answered: number) => followUps[answered - 1] ?? null };
    const model = functionModel('test:chatty', (i, request) => {
      if (i < 2) return goldenModel.complete(request, { signal: new AbortController().signal });
      return reply(assistant({ content: i === 2 ? 'done' : 'counter a' }));
    });
    const summary = await executeRun({ ...base, catalog: { names: () => ['counter'], get: () => withFollowUp }, store, model, run: fresh(config({ epochs: 1, taskIds: ['counter/a'] })) });
    assert.equal(summary.passRate, 1);
    const rollout = store.rollouts(summary.runId)[0]!;
    assert.equal(rollout.finalAnswer, 'counter a');
    const last = store.modelCalls(rollout.id).at(-1)!;
    assert.equal(last.request.messages.at(-1)!.content, 'Also say which counter you changed.');
  });

  it('states the pooled and the per-task mean pass rate, which differ when tasks have unequal scored epochs', async () => {
    const store = openStore(':memory:');
    // counter/a passes in both epochs; counter/b fails in epoch 0 and hits an infra error in epoch 1.
    let bRollouts = 0;
    const model = functionModel('test:mixed', (i, request) => {
      const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
      if (user.includes('counter b') && i === 0) bRollouts++;
      if (user.includes('counter b')) return bRollouts === 1 ? reply(assistant({ content: 'no' })) : { ok: false, kind: 'http', message: 'HTTP 500', retryable: false };
      return goldenModel.complete(request, { signal: new AbortController().signal });
    });
    const summary = await executeRun({ ...base, store, model, run: fresh(config({ epochs: 2, concurrency: 1, maxAttempts: 1, taskIds: ['counter/a', 'counter/b'] })) });
    assert.deepEqual({ scored: summary.scored, infra: summary.infraErrors, passed: summary.passed }, { scored: 3, infra: 1, passed: 2 });
    assert.equal(summary.pooledPassRate, 2 / 3);
    assert.equal(summary.passRate, summary.pooledPassRate);
    assert.equal(summary.taskMeanPassRate, 0.5);
  });
});

/** The counter environment with one broken part: a check or a tool that throws (a bug, not bad luck). */
function brokenCounter(part: 'check' | 'tool') {
  const tasks = counterTasks.slice(0, 1).map((t) =>
    Task.parse({ ...t, verifier: { checks: [...(t.verifier.checks as object[]), ...(part === 'check' ? [{ check: 'explodes' }] : [])] }, golden: part === 'tool' ? { steps: [{ tool: 'explode', arguments: {} }] } : t.golden }),
  );
  return defineEnvironment({
    ...counterEnv,
    tools: {
      ...counterEnv.tools,
      explode: defineTool({ description: 'Throws.', input: z.object({}), run: () => { throw new TypeError('cannot read properties of undefined'); } }),
    },
    checks: { ...counterEnv.checks, explodes: defineCheck({ kind: 'outcome', description: 'throws', params: z.object({}), run: () => { throw new RangeError('index out of range'); } }) },
    tasks: () => tasks,
  });
}

describe('defects are errors, not scores', () => {
  for (const part of ['check', 'tool'] as const) {
    it(`a ${part} that throws gives status error: not scored, not retried, listed, and the run fails`, async () => {
      const env = brokenCounter(part);
      const store = openStore(':memory:');
      let calls = 0;
      const model = functionModel('test:explode', (i, request) => {
        calls++;
        if (part === 'tool' && i === 0) return reply(assistant({ toolCalls: [{ id: 'e', name: 'explode', arguments: {}, argumentsText: '{}' }] }));
        return goldenModel.complete(request, { signal: new AbortController().signal });
      });
      const c = config({ epochs: 1, maxAttempts: 3 });
      const summary = await executeRun({ ...base, catalog: { names: () => ['counter'], get: () => env }, store, model, run: { resolved: { config: c, tasks: env.tasks() } } });
      assert.equal(summary.errors, 1);
      assert.equal(summary.scored, 0);
      assert.equal(summary.errorRollouts.length, 1);
      assert.match(summary.errorRollouts[0]!.message, part === 'check' ? /check explodes .* crashed: index out of range/ : /explode crashed: cannot read properties/);
      assert.equal(summary.errorRollouts[0]!.source, 'environment');
      const rollout = store.rollouts(summary.runId)[0]!;
      assert.equal(rollout.status, 'error');
      assert.equal(rollout.score, null);
      assert.equal(rollout.attempt, 1, 'a defect is never retried');
      assert.ok(calls <= 3);
    });
  }
});

describe('the watchdog', () => {
  it('writes nothing for an abandoned attempt after its end, even when the hung work later resumes', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // A model call that ignores its abort signal and answers only when the test says so.
    const model = functionModel('test:late', async () => {
      await released;
      return reply(assistant({ content: 'finally done' }));
    });
    const store = openStore(':memory:');
    // Watch every write the attempt tries to make, so the test knows the late answer arrived.
    let lateWrite!: () => void;
    const sawLateWrite = new Promise<void>((r) => (lateWrite = r));
    let releasedYet = false;
    const watched = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'recorder') {
          return (identity: AttemptIdentity) => {
            const inner = target.recorder(identity);
            const noteWrite = () => releasedYet && lateWrite();
            return {
              get sealed() {
                return inner.sealed;
              },
              seal: () => inner.seal(),
              modelCall: (call: ModelCall) => (inner.modelCall(call), noteWrite()),
              event: ((type, data) => (inner.event(type, data), noteWrite())) as RolloutRecorder['event'],
            };
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const summary = await executeRun({ ...base, store: watched, model, graceMs: 30, run: fresh(config({ epochs: 1, taskIds: ['counter/a'], deadlineMs: 60, maxAttempts: 1 })) });
    assert.equal(summary.infraErrors, 1);
    assert.match(store.rollouts(summary.runId)[0]!.error!.message, /abandoned/);
    const rolloutId = store.rollouts(summary.runId)[0]!.id;
    const before = { calls: store.modelCalls(rolloutId).length, events: store.events(rolloutId).length };
    releasedYet = true;
    release();
    await sawLateWrite;
    store.flush();
    assert.deepEqual({ calls: store.modelCalls(rolloutId).length, events: store.events(rolloutId).length }, before);
  });
});

describe('stored model output has a size cap', () => {
  it('ends a rollout whose model output is above maxOutputBytes as invalid_output, storing the size and not the output', async () => {
    const store = openStore(':memory:');
    const huge = 'x'.repeat(200_000);
    const flood = functionModel('test:flood', () => reply(assistant({ toolCalls: [{ id: 'f', name: 'increment', arguments: { id: huge }, argumentsText: JSON.stringify({ id: huge }) }] })));
    const summary = await executeRun({ ...base, store, model: flood, run: fresh(config({ epochs: 1, taskIds: ['counter/a'], maxOutputBytes: 100_000 })) });
    assert.equal(summary.terminationReasons.invalid_output, 1);
    assert.equal(summary.scored, 1);
    const calls = store.modelCalls(store.rollouts(summary.runId)[0]!.id);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.response, null);
    assert.equal(calls[0]!.error?.kind, 'output_too_large');
    assert.match(calls[0]!.error!.message, /200\d{3} bytes .* 100000-byte limit/);
    assert.ok(JSON.stringify(calls[0]).length < 10_000, 'the oversized output is not stored');
  });
});
