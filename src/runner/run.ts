import {
  errorMessage,
  GAUNTLET_VERSION,
  InputError,
  newRunId,
  recordedSpend,
  rolloutIdFor,
  SCHEMA_VERSION,
  StoreError,
  TerminationReason,
  type AttemptsSpend,
  type ModelClient,
  type Rollout,
  type RolloutOutcome,
  type Run,
  type RunId,
  type RunConfig,
  type RunLease,
  type Store,
  type Task,
} from '../core/index.ts';
import { createBatcher, createPacedQueue, createStartGate, forEachConcurrent, STORE_BATCHING } from './pool.ts';
import { gatewayModels, judgeFromConfig, modelFromConfig, rubricJudgesFromConfig, userFromConfig, type ModelEnvironment } from './model.ts';
import { builtinCatalog, tasksOfRun, type EnvironmentCatalog, type ResolvedRun, type TaskDrift } from './resolve.ts';
import { ClosingEnvironments, type EpisodeDriver } from './episode.ts';
import { executeRollout, type RolloutEvent } from './rollout.ts';
import { replayResult, type DecodedResult } from './queue/replay.ts';
import { AUTO_THREADS_FROM, RolloutThreadDied, RolloutThreads, threadCount, type ThreadOutcome } from './threads/threads.ts';
import { SqliteStore } from '../store/index.ts';
import { environmentFiles } from '../envs/index.ts';

export interface RunProgress {
  total: number;
  done: number;
  scored: number;
  passed: number;
  infraErrors: number;
  errors: number;
  /** Prompt and completion tokens spent by the rollouts this process finished, every attempt included. */
  tokens: number;
}

/**
 * Watches finished rollouts for infra errors in a row: past the run's `stopAfterInfraErrors`, the
 * endpoint or service is taken as down, and the run stops starting rollouts that would only fail
 * the same way. `observe` returns why, once, when that happens.
 */
export class InfraErrorStreak {
  private inARow = 0;
  private tripped = false;

  constructor(private readonly config: Pick<RunConfig, 'stopAfterInfraErrors'>, private readonly runId: string) {}

  observe(rollout: Rollout): string | undefined {
    // A cancelled rollout says nothing about the infrastructure.
    if (rollout.status === 'cancelled') return undefined;
    this.inARow = rollout.status === 'infra_error' ? this.inARow + 1 : 0;
    const limit = this.config.stopAfterInfraErrors;
    if (this.tripped || limit === 0 || this.inARow < limit) return undefined;
    this.tripped = true;
    const last = rollout.error ? ` (the last: ${rollout.error.source}: ${rollout.error.message.split('\n')[0]})` : '';
    return `${this.inARow} rollouts in a row ended as infra errors${last}; no more were started (stopAfterInfraErrors ${limit}). Once it works again, finish the run with --resume ${this.runId} --retry-infra`;
  }
}

/** Counts a finished rollout into the run's progress. */
export function countFinished(progress: RunProgress, rollout: Rollout): void {
  progress.done++;
  if (rollout.status === 'scored') progress.scored++;
  // Only a scored rollout can pass, whatever a record (a forged or damaged one) says beside an infra error.
  if (rollout.status === 'scored' && rollout.passed === true) progress.passed++;
  if (rollout.status === 'infra_error') progress.infraErrors++;
  if (rollout.status === 'error') progress.errors++;
  const spent = recordedSpend(rollout);
  progress.tokens += spent.promptTokens + spent.completionTokens;
}

export interface ExecuteRunOptions {
  store: Store;
  /**
   * A new run, resolved by `resolveRun`, or the id of a stored run to resume (its stored config and
   * tasks are used); `retryInfraErrors` also runs again the rollouts stored as infra errors.
   */
  run: { resolved: ResolvedRun } | { resume: string; retryInfraErrors?: boolean };
  /** The agent's model; built from the run's config when absent (then closed at the end). */
  model?: ModelClient;
  /** The judge; built from `config.judge` when absent. */
  judge?: ModelClient;
  /** API keys and `fetch` for clients built here. */
  modelEnvironment?: ModelEnvironment;
  /**
   * Where environments come from when not from the registry (in-process objects: rollouts then stay
   * on this thread). For environments loaded from files, give `environmentModules` instead.
   */
  catalog?: EnvironmentCatalog;
  /**
   * The module files (absolute paths) this process loaded the run's environments from
   * (`loadEnvironmentModules`): each rollout thread loads them too before it runs a rollout, and
   * a module that fails to load there fails the run before any rollout starts.
   */
  environmentModules?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  /** Hears each rollout start and end here, and each record stored (metrics); see RolloutEvent. */
  onRollout?: (event: RolloutEvent) => void;
  /** Called once the run exists in the store (before any rollout runs). */
  onStart?: (run: Run, notes: RunNotes) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  graceMs?: number;
  /** Plays each episode instead of the agent loop (an external agent, injected by the CLI). */
  driver?: EpisodeDriver;
  /**
   * Rollout threads: 'auto' (the default) uses threads from AUTO_THREADS_FROM (100) rollouts at
   * once on machines with 4 or more cores (threadCount), when nothing in-process is injected (a
   * model, judge, driver, catalog, fetch, clock); 0 runs every rollout on this thread; N asks for
   * N threads (an error when something is injected).
   */
  threads?: number | 'auto';
}

/** What a resumed run's caller should know about its tasks. */
export interface RunNotes {
  taskSource: 'stored' | 'current';
  drift: TaskDrift[];
}

export interface RunSummary {
  runId: RunId;
  status: Run['status'];
  rollouts: number;
  scored: number;
  infraErrors: number;
  /** Rollouts ended by a defect in Gauntlet's or an environment's code: never scored; the run fails. */
  errors: number;
  cancelled: number;
  passed: number;
  /** Pooled: passed ÷ scored rollouts (0 when nothing was scored). */
  passRate: number;
  /** The same as `passRate`, named for what it is. */
  pooledPassRate: number;
  /** Mean over tasks of each task's pass rate over its scored epochs; differs from the pooled rate when tasks have unequal scored epochs. */
  taskMeanPassRate: number;
  /** Mean score over scored rollouts (0 when nothing was scored). */
  meanScore: number;
  terminationReasons: Record<TerminationReason, number>;
  missing: number;
  durationMs: number;
  /** Every rollout that ended in a defect, so it is listed, not lost in a count. */
  errorRollouts: { id: string; taskId: string; epoch: number; source: string; message: string }[];
  /** Why the run stopped early, when it was not the caller's doing (a full disk). */
  failure?: string;
  /** Model calls, tool calls and tokens of every stored rollout, retried and failed attempts included (`Store.runSpend`). */
  spent?: AttemptsSpend;
}

/**
 * Creates (or reopens for resume) a run, runs every missing rollout, and summarises the stored
 * results. The run's stored config and tasks are the only inputs: a resumed run behaves exactly
 * as the original. One process at a time executes a run (a lease in the store).
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const { store } = options;
  const catalog = options.catalog ?? builtinCatalog;
  let run: Run;
  let tasks: Task[];
  let lease: RunLease;
  let notes: RunNotes;
  if ('resume' in options.run) {
    const stored = store.getRun(options.run.resume);
    if (!stored) throw new InputError('run', `no run "${options.run.resume}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
    run = stored;
    lease = store.acquireLease(run.id);
    try {
      const found = tasksOfRun(store, run.id, run.config, catalog);
      tasks = found.tasks;
      notes = { taskSource: found.source, drift: found.drift };
      store.setRunStatus(run.id, 'running');
    } catch (error) {
      lease.release();
      throw error;
    }
  } else {
    const { config } = options.run.resolved;
    tasks = options.run.resolved.tasks;
    const files = environmentFiles(config.envs);
    run = { schemaVersion: SCHEMA_VERSION, id: newRunId(new Date(started)), createdAt: new Date(started).toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'running', finishedAt: null, ...(files ? { environmentFiles: files } : {}) };
    store.createRun(run, tasks);
    lease = store.acquireLease(run.id);
    notes = { taskSource: 'stored', drift: [] };
  }
  const config = run.config;
  const owned: ModelClient[] = [];
  let threads: RolloutThreads | null = null;
  let threadsFailed = false;
  /** A rollout thread that died: the run stops as when the store fails, and --resume runs what it left. */
  let threadDied: RolloutThreadDied | undefined;
  let writesOffThread = false;
  const closing = new ClosingEnvironments();
  /** Until rollouts may start: a new run refused meanwhile for the caller's input never ran. */
  let settingUp = true;
  let unstarted: InputError | undefined;
  try {
    options.onStart?.(run, notes);
    const modelEnvironment = options.modelEnvironment ?? { env: process.env };
    const retryingInfraErrors = 'resume' in options.run && options.run.retryInfraErrors === true;
    const finished = store.finishedRolloutIds(run.id, { exceptInfraErrors: retryingInfraErrors });
    // Infra_error records this resume runs again: what each spent was counted when it finished.
    const replacing = retryingInfraErrors ? new Set([...store.finishedRolloutIds(run.id)].filter((id) => !finished.has(id))) : new Set<string>();
    const work: { task: Task; epoch: number }[] = [];
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      for (const task of tasks) if (!finished.has(rolloutIdFor(run.id, task.id, epoch))) work.push({ task, epoch });
    }
    const progress: RunProgress = { total: tasks.length * config.epochs, done: finished.size, scored: 0, passed: 0, infraErrors: 0, errors: 0, tokens: 0 };
    // The caller's cancel, or our own stop when the store cannot take more.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const threadTotal = rolloutThreadsFor(options, Math.min(config.concurrency, work.length));
    let runOne: (item: { task: Task; epoch: number }) => Promise<{ rollout: Rollout; commit: () => void | Promise<void> } | null>;
    if (threadTotal > 0) {
      // A store other threads can open: each rollout thread writes its own rollouts (no record
      // crosses threads, the main thread only keeps the books). Otherwise the main thread stores
      // what the threads send back, as it would have recorded it.
      const shared = store instanceof SqliteStore ? store.forThreads() : null;
      threads = await RolloutThreads.start({ count: threadTotal, init: { runId: run.id, config, env: modelEnvironment.env, graceMs: options.graceMs ?? 10_000, ...(shared ? { store: shared } : {}), ...(options.environmentModules?.length ? { environmentModules: [...options.environmentModules] } : {}) } });
      const pool = threads;
      // Threads finish rollouts in bursts: the main thread's share (handing rollouts over,
      // storing what comes back, several rollouts per transaction) is paced to a budget per loop turn.
      const handOver = createPacedQueue(STORE_BATCHING.budgetMs);
      const commit = createBatcher<DecodedResult>({
        ...STORE_BATCHING,
        run: (results) => {
          for (const result of results) replayResult(store, result);
          store.commitRollouts(results.map((r) => r.rollout));
        },
      });
      signal.addEventListener('abort', () => pool.abort(String(signal.reason)), { once: true });
      runOne = async ({ task, epoch }) => {
        let outcome: ThreadOutcome;
        try {
          outcome = await handOver(() => {
            const id = rolloutIdFor(run.id, task.id, epoch);
            const firstAttempt = store.nextAttempt(id);
            // A thread that stores its own reads the earlier attempts' spend from the file itself.
            return pool.run({ task, epoch, firstAttempt, ...(!shared && firstAttempt > 1 ? { earlier: store.attemptsSpend(id, firstAttempt) } : {}) });
          });
        } catch (error) {
          if (error instanceof RolloutThreadDied) {
            // Its rollouts in flight have no result (a thread storing its own may have stored some:
            // those stay). Start no more; the other threads' rollouts end as on a cancel.
            threadDied ??= error;
            stop.abort(error);
            return null;
          }
          threadsFailed = true;
          throw error;
        }
        if (!outcome) return null;
        if ('stored' in outcome) {
          const { storeFailure } = outcome;
          return { rollout: outcome.stored, commit: storeFailure ? () => { throw storeFailure; } : () => {} };
        }
        return { rollout: outcome.rollout, commit: () => commit(outcome) };
      };
    } else {
      const model = options.model ?? (await modelFromConfig(config, modelEnvironment));
      if (!options.model) owned.push(model);
      const judge = options.judge ?? (await judgeFromConfig(config, modelEnvironment));
      if (judge && !options.judge) owned.push(judge);
      const judges = await rubricJudgesFromConfig(config, modelEnvironment);
      owned.push(...judges.values());
      const user = await userFromConfig(config, modelEnvironment);
      if (user) owned.push(user);
      const attemptModel = gatewayModels(config, modelEnvironment);
      const ctx = {
        runId: run.id,
        config,
        store,
        model,
        environment: (name: string) => catalog.get(name),
        now,
        sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
        graceMs: options.graceMs ?? 10_000,
        signal,
        ...(judge ? { judge } : {}),
        ...(judges.size > 0 ? { judges } : {}),
        ...(user ? { user } : {}),
        ...(attemptModel ? { attemptModel } : {}),
        ...(options.driver ? { driver: options.driver } : {}),
        closing,
      };
      const startGate = createStartGate();
      // Rollouts finishing in the same loop turn share a transaction: at a thousand rollouts, a
      // commit of its own cost each rollout 0.3-0.6 ms of main thread. In a run of that many, at
      // once or a few at a time, the store's writes move to a thread of their own, leaving this
      // one to the rollouts.
      writesOffThread = store instanceof SqliteStore && work.length >= AUTO_THREADS_FROM && store.writeOffThread();
      const commit = createBatcher<Rollout>({ ...STORE_BATCHING, run: (rollouts) => (writesOffThread && store instanceof SqliteStore ? store.commitRolloutsAsync(rollouts) : store.commitRollouts(rollouts)) });
      runOne = async ({ task, epoch }) => {
        const started = await startGate();
        try {
          if (signal.aborted) return null;
          const rollout = await executeRollout(ctx, task, epoch, { onStarted: started });
          return rollout && { rollout, commit: () => commit(rollout) };
        } finally {
          started();
        }
      };
    }
    options.onProgress?.(progress);
    let failure: StoreError | undefined;
    const streak = new InfraErrorStreak(config, run.id);
    let infraStop: string | undefined;
    const record = async (done: { rollout: Rollout; commit: () => void | Promise<void> }, replaced: AttemptsSpend | undefined) => {
      if (failure) return;
      const { rollout } = done;
      try {
        await done.commit();
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        // Stop starting rollouts; what is stored stays, and --resume runs the rest.
        failure = error;
        stop.abort(error);
        return;
      }
      countFinished(progress, rollout);
      options.onRollout?.({ type: 'finished', rollout, ...(replaced ? { replaced } : {}) });
      options.onProgress?.(progress);
      const down = streak.observe(rollout);
      if (down) {
        infraStop = down;
        stop.abort(new Error(down));
      }
    };
    // With the writes on their own thread, a finished rollout's slot goes to the next rollout
    // while its commit is written: at a few rollouts at once, waiting out each commit's round trip
    // left this thread idle. At most `concurrency` commits wait at once. (With commits on this
    // thread, starting the next rollout first measured slower.)
    const committing = new Set<Promise<void>>();
    let broken: { error: unknown } | undefined;
    // A bug, not the store: start no more rollouts, cancel those in flight, and fail the run with it below.
    const fail = (error: unknown): void => {
      broken ??= { error };
      stop.abort(error);
    };
    settingUp = false;
    await forEachConcurrent(work, config.concurrency, async (item) => {
      if (signal.aborted || broken) return;
      const { env } = item.task;
      options.onRollout?.({ type: 'started', env });
      try {
        // Read before the rollout runs: its new record takes the old one's place.
        const id = rolloutIdFor(run.id, item.task.id, item.epoch);
        const old = replacing.has(id) ? store.getRollout(id) : null;
        const replaced = old ? recordedSpend(old) : undefined;
        const done = await runOne(item).finally(() => options.onRollout?.({ type: 'ended', env }));
        if (!done) return;
        if (!writesOffThread) return record(done, replaced);
        const recorded = record(done, replaced).catch(fail);
        committing.add(recorded);
        void recorded.then(() => committing.delete(recorded));
        // A loop, not one race: several slots waiting on the same commits all wake when one is
        // written, and only those that still find room may start another rollout.
        while (committing.size > config.concurrency) await Promise.race(committing);
      } catch (error) {
        fail(error);
      }
    });
    await Promise.all(committing);
    if (broken) throw broken.error;
    const outcomes = store.rolloutOutcomes(run.id);
    const expected = tasks.length * config.epochs;
    // A signal that came once every rollout was stored interrupted nothing: the run is finished.
    const complete = outcomes.filter((r) => r.status !== 'cancelled').length >= expected;
    const status = signal.aborted && !complete ? 'interrupted' : 'finished';
    try {
      store.setRunStatus(run.id, status);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      failure ??= error;
    }
    const stoppedBy = failure?.message ?? threadDied?.message ?? (complete ? undefined : infraStop);
    const summary = summarise(run.id, stoppedBy ? 'interrupted' : status, outcomes, { expected, durationMs: now() - started, spent: store.runSpend(run.id) });
    return stoppedBy ? { ...summary, failure: stoppedBy } : summary;
  } catch (error) {
    // A missing script, template or key found while building clients (here or in rollout threads):
    // a new run is removed, not left "running" where no process executes it and a resume fails
    // the same way. A resumed run keeps everything it stored.
    if (settingUp && error instanceof InputError && !('resume' in options.run)) unstarted = error;
    throw error;
  } finally {
    if (writesOffThread && store instanceof SqliteStore) store.writeOnThisThread();
    lease.release();
    if (threads) await (threadsFailed ? threads.terminate() : threads.close());
    await Promise.all(owned.map((m) => m.close?.()));
    // Sandboxes still closing (a pod's delete, a remote teardown) finish before the run returns, and
    // so before a command exits; bounded, since a hung environment must not hang the run.
    await closing.settled();
    // Last, once its lease is released (deleting refuses a run whose lease a live process holds).
    if (unstarted) removeUnstartedRun(store, run.id, unstarted);
  }
}

/** Deletes a new run that setup refused; a store that cannot delete it is reported with the refusal, and how to finish the job. */
function removeUnstartedRun(store: Store, runId: RunId, refusal: InputError): void {
  if (!(store instanceof SqliteStore)) return;
  try {
    store.deleteRun(runId);
  } catch (error) {
    throw new StoreError(
      store.path,
      error instanceof StoreError ? error.problem : 'io',
      `run ${runId} stopped before any rollout (${refusal.message}), and removing it from the store failed: ${errorMessage(error)}; delete it with \`gauntlet runs delete ${runId}\``,
      { cause: error },
    );
  }
}

/** The rollout threads this run gets (0: in-process); asking for threads while injecting in-process objects is an error. */
function rolloutThreadsFor(options: ExecuteRunOptions, inFlight: number): number {
  const injected = [
    options.model && 'a model client',
    options.judge && 'a judge client',
    options.driver && 'an external agent',
    options.catalog && options.catalog !== builtinCatalog && 'environments beyond the built-in ones',
    options.modelEnvironment?.fetch && 'a fetch function',
    options.now && 'a clock',
    options.sleep && 'a sleep function',
  ].filter((x): x is string => typeof x === 'string');
  const requested = options.threads ?? 'auto';
  if (injected.length === 0) return threadCount(requested, inFlight);
  if (typeof requested === 'number' && requested > 0) {
    throw new InputError('threads', `${requested} rollout threads cannot run with ${injected.join(', ')} (those live on this thread)`, 'threads 0, or no in-process objects');
  }
  return 0;
}

export function summarise(runId: RunId, status: Run['status'], rollouts: readonly RolloutOutcome[], extra: { expected: number; durationMs: number; spent?: AttemptsSpend }): RunSummary {
  const scored = rollouts.filter((r) => r.status === 'scored');
  const passed = scored.filter((r) => r.passed).length;
  const reasons = Object.fromEntries(TerminationReason.options.map((r) => [r, 0])) as Record<TerminationReason, number>;
  for (const r of rollouts) reasons[r.terminationReason]++;
  const perTask = new Map<string, { passed: number; scored: number }>();
  for (const r of scored) {
    const t = perTask.get(r.taskId) ?? { passed: 0, scored: 0 };
    t.scored++;
    if (r.passed) t.passed++;
    perTask.set(r.taskId, t);
  }
  const taskRates = [...perTask.values()].map((t) => t.passed / t.scored);
  const pooled = scored.length ? passed / scored.length : 0;
  const errors = rollouts.filter((r) => r.status === 'error');
  return {
    runId,
    status,
    rollouts: rollouts.length,
    scored: scored.length,
    infraErrors: rollouts.filter((r) => r.status === 'infra_error').length,
    errors: errors.length,
    cancelled: rollouts.filter((r) => r.status === 'cancelled').length,
    passed,
    passRate: pooled,
    pooledPassRate: pooled,
    taskMeanPassRate: taskRates.length ? taskRates.reduce((s, v) => s + v, 0) / taskRates.length : 0,
    meanScore: scored.length ? scored.reduce((s, r) => s + (r.score ?? 0), 0) / scored.length : 0,
    terminationReasons: reasons,
    missing: Math.max(0, extra.expected - rollouts.length),
    durationMs: extra.durationMs,
    errorRollouts: errors.map((r) => ({ id: r.id, taskId: r.taskId, epoch: r.epoch, source: r.error?.source ?? 'gauntlet', message: r.error?.message ?? '' })),
    ...(extra.spent ? { spent: extra.spent } : {}),
  };
}

