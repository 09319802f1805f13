import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { SCHEMA_VERSION, type ModelCall, type ModelCallId, type Rollout, type RolloutId, type RunId, type Task, type TaskId } from '../../core/index.ts';
import { groupAdvantages } from '../advantages/index.ts';
import { resolveTarget } from '../export/index.ts';
import type { FinishedMember } from './rows.ts';
import { FINISHED_BATCHES_KEPT, RolloutScheduler, type BatchSink, type GroupExecutor, type GroupWork, type SchedulerOptions } from './scheduler.ts';
import { MAX_LINE_CHARS, type StreamLine } from './schemas.ts';
import { buttonTask } from './test-support.ts';

const G = 2;
const target = resolveTarget('generic');

function call(rolloutId: string, index: number, version: number | null): ModelCall {
  return {
    schemaVersion: SCHEMA_VERSION,
    id: `mc_${rolloutId}_${index}` as ModelCallId,
    runId: 'run_t' as RunId,
    rolloutId: rolloutId as RolloutId,
    attempt: 1,
    index,
    parentId: index === 0 ? null : (`mc_${rolloutId}_${index - 1}` as ModelCallId),
    purpose: 'turn',
    model: 'openai:http://engine/v1#m',
    ...(version === null ? {} : { policyVersion: String(version) }),
    request: { messages: [], tools: [], sampling: {} },
    response: { message: { role: 'assistant', content: 'ok', toolCalls: [] }, finishReason: 'stop', usage: {} },
    startedAt: '2026-01-05T09:00:00.000Z',
    latencyMs: 1,
  };
}

/** A settled member of the group `work` asked for, whose calls carry `versions`. */
function member(work: GroupWork, i: number, versions: (number | null)[], over: Partial<Rollout> = {}): FinishedMember {
  const id = `ro_${work.task.id}_${work.world}_${i}`;
  const rollout: Rollout = {
    schemaVersion: SCHEMA_VERSION,
    id: id as RolloutId,
    runId: 'run_t' as RunId,
    taskId: work.task.id as TaskId,
    env: work.task.env,
    epoch: work.world * G + i,
    groupId: `run_t/${work.task.id}/${work.world}`,
    attempt: 1,
    seed: work.world,
    model: 'm',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: 'answered',
    score: i % 2,
    passed: i % 2 === 1,
    rewardTerms: [],
    verifier: null,
    error: null,
    finalAnswer: 'ok',
    stats: { turns: versions.length, modelCalls: versions.length, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: '2026-01-05T09:00:00.000Z',
    endedAt: '2026-01-05T09:00:01.000Z',
    durationMs: 1000,
    ...over,
  };
  return { rollout, calls: versions.map((v, k) => call(id, k, v)) };
}

/** An executor the test finishes by hand: each started group waits until the test settles it. */
class ManualExecutor {
  readonly started: { work: GroupWork; settle: (members: FinishedMember[]) => void; fail: (error: Error) => void }[] = [];
  run = (work: GroupWork): Promise<FinishedMember[]> =>
    new Promise((resolve, reject) => {
      // A cancelled group ends with no members, as queued rollouts that never started.
      work.signal.addEventListener('abort', () => resolve([]), { once: true });
      this.started.push({ work, settle: resolve, fail: reject });
    });
  /** Settles started group `k` with every call at `versions`; resolves after the scheduler has reacted. */
  async finish(k: number, versions: (number | null)[], over: Partial<Rollout> = {}): Promise<void> {
    const entry = this.started[k]!;
    entry.settle(Array.from({ length: G }, (_, i) => member(entry.work, i, versions, over)));
    await flush();
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

class Reader implements BatchSink {
  readonly lines: StreamLine[] = [];
  open = true;
  ended = false;
  write(line: string): boolean {
    if (!this.open) return false;
    this.lines.push(JSON.parse(line) as StreamLine);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  groups() {
    return this.lines.filter((l): l is Extract<StreamLine, { type: 'group' }> => l.type === 'group');
  }
}

function scheduler(over: Partial<SchedulerOptions> & { tasks?: Task[] } = {}) {
  const executor = new ManualExecutor();
  let version = 0;
  const s = new RolloutScheduler({
    tasks: [buttonTask('a'), buttonTask('b', { slow: true })],
    groupSize: G,
    maxStaleness: 1,
    window: 0,
    leftovers: 'keep',
    maxFailedGroups: 3,
    maxLineChars: MAX_LINE_CHARS,
    executor,
    rows: (members, batch) => {
      const rewards = members.map((m) => m.rollout.score as number);
      return { ok: true, rows: members.map((m) => ({ rollout_id: m.rollout.id })), members: [...members], rewards, advantages: groupAdvantages(rewards, batch.method) };
    },
    currentVersion: () => version,
    now: () => 0,
    ...over,
  });
  return { s, executor, bump: (to: number) => void (version = to), version: () => version };
}

const spec = (size: number) => ({ size, tasks: null, target, method: 'grpo' as const, policyVersion: 0 });

describe('rollout scheduler', () => {
  it('checks staleness at the moment of handout, even when no announcement was processed in between', async () => {
    const { s, executor, bump } = scheduler();
    const batch = s.openBatch(spec(1));
    await executor.finish(0, [0, 0]);
    bump(2); // the trainer moved on, and the scheduler was not told
    const reader = new Reader();
    assert.deepEqual(s.attach(batch.id, reader), { ok: true });
    assert.equal(reader.groups().length, 0, 'a group two versions behind is not written');
    assert.deepEqual(s.report().groups.dropped, { stale: 1 });
    assert.equal(executor.started.length, 2, 'a replacement was started');
    await executor.finish(1, [2, 2]);
    assert.deepEqual(reader.groups().map((g) => g.policyVersions), [{ min: 2, max: 2 }]);
    assert.deepEqual(reader.lines.at(-1), { type: 'done', batchId: batch.id, served: 1, currentVersion: 2 });
    assert.ok(reader.ended);
  });

  it('never serves a group whose calls carry no step-numbered version', async () => {
    const { s, executor } = scheduler();
    const reader = new Reader();
    s.attach(s.openBatch(spec(1)).id, reader);
    await executor.finish(0, [0, null]);
    assert.equal(reader.groups().length, 0);
    assert.deepEqual(s.report().groups.dropped, { untagged: 1 });
  });

  it('drops a group whose stream line is longer than clients read, and serves the next one', async () => {
    const logged: string[] = [];
    // The first group's rows carry a long note; later ones do not.
    let note = 'x'.repeat(2_000);
    const { s, executor } = scheduler({
      log: (line) => logged.push(line),
      maxLineChars: 1_000,
      rows: (members, batch) => {
        const rewards = members.map((m) => m.rollout.score as number);
        const rows = members.map((m) => ({ rollout_id: m.rollout.id, note }));
        note = '';
        return { ok: true, rows, members: [...members], rewards, advantages: groupAdvantages(rewards, batch.method) };
      },
    });
    const reader = new Reader();
    s.attach(s.openBatch(spec(1)).id, reader);
    await executor.finish(0, [0]);
    assert.equal(reader.groups().length, 0);
    assert.deepEqual(s.report().groups.dropped, { 'unexportable: line too long': 1 });
    assert.match(logged.join('\n'), /stream line is \d+ characters long; clients read at most 1000 \(maxLineChars\)/);
    await executor.finish(1, [0]);
    assert.equal(reader.groups().length, 1, 'the session goes on with the next group');
  });

  it('fails the batch naming a number JSON has no word for in a stream line, instead of writing it as null', async () => {
    const logged: string[] = [];
    const { s, executor } = scheduler({
      log: (line) => logged.push(line),
      rows: (members, batch) => {
        const rewards = members.map((m) => m.rollout.score as number);
        const rows = members.map((m) => ({ rollout_id: m.rollout.id, logprobs: [-0.5, Number.NEGATIVE_INFINITY] }));
        return { ok: true, rows, members: [...members], rewards, advantages: groupAdvantages(rewards, batch.method) };
      },
    });
    const reader = new Reader();
    const batch = s.openBatch(spec(1));
    s.attach(batch.id, reader);
    await executor.finish(0, [0]);
    assert.equal(reader.groups().length, 0, 'no line with a stand-in is written');
    const last = reader.lines.at(-1);
    assert.equal(last?.type, 'error');
    assert.match(last?.type === 'error' ? last.message : '', /stream line of group .* holds -Infinity at rows\.0\.logprobs\.1; JSON has no -Infinity/);
    assert.ok(reader.ended);
  });

  it('keeps a group for the next reader when the current one went away before it was written', async () => {
    const { s, executor } = scheduler();
    const batch = s.openBatch(spec(1));
    const gone = new Reader();
    gone.open = false;
    s.attach(batch.id, gone);
    await executor.finish(0, [0]);
    assert.equal(s.report().groups.served, 0);
    const reader = new Reader();
    assert.deepEqual(s.attach(batch.id, reader), { ok: true });
    assert.equal(reader.groups().length, 1);
    assert.equal(s.attach(batch.id, new Reader()).ok, false, 'a finished batch has no more groups to give');
  });

  it('cancels the stragglers of a full batch when leftovers are not kept', async () => {
    const { s, executor } = scheduler({ window: 2, leftovers: 'cancel' });
    const reader = new Reader();
    s.attach(s.openBatch(spec(1)).id, reader);
    assert.equal(executor.started.length, 3);
    await executor.finish(1, [0]);
    assert.equal(reader.groups().length, 1);
    assert.deepEqual(
      executor.started.map((e) => e.work.signal.aborted),
      [true, false, true],
    );
    assert.deepEqual(s.report().groups.cancelled, { leftover: 2 });
  });

  it('fails open batches loudly after repeated infrastructure failures, and at once on a defect', async () => {
    const infra = scheduler();
    const reader = new Reader();
    infra.s.attach(infra.s.openBatch(spec(1)).id, reader);
    for (let k = 0; k < 3; k++) await infra.executor.finish(k, [0], { status: 'infra_error', terminationReason: 'infra_error', score: null, passed: null, error: { source: 'model', message: 'HTTP 503' } });
    assert.deepEqual(reader.lines.at(-1), { type: 'error', batchId: 'batch_1', message: '3 groups in a row ended in infrastructure failures; the last: model: HTTP 503' });
    assert.match(infra.s.failure ?? '', /infrastructure/);
    assert.equal(infra.executor.started.length, 3, 'nothing more is started');

    const defect = scheduler();
    const second = new Reader();
    defect.s.attach(defect.s.openBatch(spec(1)).id, second);
    await defect.executor.finish(0, [0], { status: 'error', terminationReason: 'error', score: null, passed: null, error: { source: 'environment', message: 'tool press threw' } });
    assert.equal(second.lines.at(-1)?.type, 'error');
    assert.match(defect.s.failure ?? '', /hit a defect: tool press threw/);
  });

  it('lets go of groups out of play and of finished batches beyond the last FINISHED_BATCHES_KEPT, and still counts them all', async () => {
    // Each group's signal is watched through a WeakRef: a scheduler that keeps every group record
    // keeps every signal (and what Node hangs on it), which a session running for weeks cannot afford.
    const signals: WeakRef<AbortSignal>[] = [];
    const executor: GroupExecutor = {
      run: async (work) => {
        signals.push(new WeakRef(work.signal));
        await flush();
        return Array.from({ length: G }, (_, i) => member(work, i, [0, 0]));
      },
    };
    const { s } = scheduler({ executor });
    const batches = FINISHED_BATCHES_KEPT + 44;
    for (let b = 0; b < batches; b++) {
      const reader = new Reader();
      assert.deepEqual(s.attach(s.openBatch(spec(2)).id, reader), { ok: true });
      while (!reader.ended) await flush();
      assert.equal(reader.groups().length, 2);
    }
    assert.deepEqual(s.retained(), { groups: 0, batches: FINISHED_BATCHES_KEPT });
    const report = s.report();
    assert.equal(report.groups.started, 2 * batches, 'groups let go are still counted');
    assert.equal(report.groups.served, 2 * batches);
    assert.deepEqual(report.bias.tasks.rows.map((r) => [r.key, r.started, r.served]), [['buttons/a', batches, batches], ['buttons/b', batches, batches]]);
    assert.equal(report.bias.length.settled.groups, 2 * batches);
    assert.equal(report.bias.length.served.meanTurns, 2);
    assert.equal(report.batches.length, FINISHED_BATCHES_KEPT);
    assert.equal(report.batches[0]?.id, `batch_${batches - FINISHED_BATCHES_KEPT + 1}`, 'the oldest finished batches are the ones forgotten');
    assert.equal(s.batch('batch_1'), undefined);
    assert.equal(s.attach('batch_1', new Reader()).ok, false);

    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await flush();
    gc();
    const alive = signals.filter((ref) => ref.deref() !== undefined).length;
    assert.ok(alive <= 2, `${alive} of ${signals.length} group signals are still reachable after a full collection`);
    await s.close();
  });

  it('property: whatever the order of finishes, announcements and readers, no served call lags more than maxStaleness, and the bias stays within its bound', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), age: fc.nat({ max: 3 }) }),
      fc.record({ kind: fc.constant('announce' as const), by: fc.integer({ min: 1, max: 2 }), tell: fc.boolean() }),
      fc.record({ kind: fc.constant('batch' as const), size: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('reader' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), async (steps, maxStaleness, window) => {
        const { s, executor, bump, version } = scheduler({ maxStaleness, window });
        const readers: Reader[] = [];
        const batches: string[] = [];
        const settled = new Set<number>();
        for (const st of steps) {
          if (st.kind === 'batch') batches.push(s.openBatch({ ...spec(st.size), policyVersion: version() }).id);
          else if (st.kind === 'reader' && batches.length > 0) {
            const reader = new Reader();
            if (s.attach(batches[st.pick % batches.length]!, reader).ok) readers.push(reader);
          } else if (st.kind === 'announce') {
            bump(version() + st.by);
            if (st.tell) s.versionChanged();
          } else if (st.kind === 'finish') {
            const open = executor.started.map((_, k) => k).filter((k) => !settled.has(k));
            if (open.length === 0) continue;
            const k = open[st.pick % open.length]!;
            settled.add(k);
            // Calls made between when the group started and now: the oldest up to `age` versions back.
            await executor.finish(k, [Math.max(0, version() - st.age), version()]);
          }
        }
        for (const reader of readers) {
          for (const line of reader.groups()) {
            assert.ok(line.currentVersion - line.policyVersions.min <= maxStaleness, `served a group at lag ${line.lag.max} > ${maxStaleness}`);
            assert.ok(line.rollouts.every((r) => r.calls.every((c) => c.lag <= maxStaleness && c.lag === line.currentVersion - c.policyVersion)));
          }
        }
        const bias = s.report().bias.tasks;
        if (bias.totalVariation !== null) assert.ok(bias.totalVariation <= (bias.bound as number) + 1e-12, `TV ${bias.totalVariation} > bound ${bias.bound}`);
        await s.close();
      }),
      { numRuns: 150 },
    );
  });
});
