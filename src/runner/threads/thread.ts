// A rollout thread: loads the environment modules the main thread loaded and builds the run's model
// clients once, then runs the rollouts the main thread sends with the same `executeRollout` as the
// in-process runner. With a store file it stores each rollout itself through a connection of its
// own; otherwise each is recorded into memory and sent back whole. Starts are staggered (one per
// loop turn) as in-process.
import { parentPort, workerData } from 'node:worker_threads';
import { InputError, rolloutIdFor, StoreError, type ModelClient, type Rollout } from '../../core/index.ts';
import { environmentSource, loadEnvironmentModules } from '../../envs/index.ts';
import { openStore, type SqliteStore } from '../../store/index.ts';
import { gatewayModels, judgeFromConfig, modelFromConfig, rubricJudgesFromConfig, userFromConfig } from '../model.ts';
import { processClosing } from '../episode.ts';
import { createBatcher, createStartGate, STORE_BATCHING } from '../pool.ts';
import { builtinCatalog } from '../resolve.ts';
import { executeRollout, type RolloutContext } from '../rollout.ts';
import { CapturedRollout } from './capture.ts';
import { lowerThreadPriority } from './priority.ts';
import type { FromThread, ThreadInit, ToThread } from './protocol.ts';

function describe(error: unknown): { message: string; stack?: string } {
  if (error instanceof Error) return { message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { message: String(error) };
}

const LOADS_ON_ANY_THREAD = 'a module that loads in a worker thread as on the main thread, or --threads 0 to keep every rollout on the main thread';

/**
 * Loads the environment modules the main thread loaded, with the same loader, and checks that the
 * run's environments are known here. A module that loaded there but not here (it depends on being
 * on the main thread) is the author's input: an InputError naming the file, before any rollout.
 */
async function loadModules(files: readonly string[], envs: readonly string[]): Promise<void> {
  try {
    await loadEnvironmentModules(files.map((file) => ({ file, where: `environment module ${file} in a rollout thread` })));
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(error.where, error.problem, LOADS_ON_ANY_THREAD);
  }
  // An environment registered on the main thread some other way would turn every rollout into an error.
  const unknown = envs.filter((env) => environmentSource(env) === undefined);
  if (unknown.length > 0) {
    const loaded = files.length > 0 ? `it loaded ${files.join(', ')}` : 'it was given no environment module';
    throw new InputError('rollout thread', `environment${unknown.length > 1 ? 's' : ''} ${unknown.map((env) => `"${env}"`).join(', ')} unknown there (${loaded})`, "the files the run's environments come from in environmentModules, or threads 0");
  }
}

async function serve(init: ThreadInit): Promise<void> {
  const port = parentPort!;
  const niceness = lowerThreadPriority();
  const send = (message: FromThread) => port.postMessage(message);
  const environment = { env: init.env };
  const owned: ModelClient[] = [];
  let ctx: Omit<RolloutContext, 'store'>;
  let store: SqliteStore | undefined;
  const stop = new AbortController();
  try {
    // First: the thread's registry knows only the built-ins until it loads the main thread's modules.
    await loadModules(init.environmentModules ?? [], init.config.envs);
    if (init.store) store = openStore(init.store.path, init.store.options);
    const model = await modelFromConfig(init.config, environment);
    owned.push(model);
    const judge = await judgeFromConfig(init.config, environment);
    if (judge) owned.push(judge);
    const judges = await rubricJudgesFromConfig(init.config, environment);
    owned.push(...judges.values());
    const user = await userFromConfig(init.config, environment);
    if (user) owned.push(user);
    const attemptModel = gatewayModels(init.config, environment);
    ctx = {
      runId: init.runId,
      config: init.config,
      model,
      environment: (name) => builtinCatalog.get(name),
      now: Date.now,
      sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      graceMs: init.graceMs,
      signal: stop.signal,
      ...(judge ? { judge } : {}),
      ...(judges.size > 0 ? { judges } : {}),
      ...(user ? { user } : {}),
      ...(attemptModel ? { attemptModel } : {}),
    };
  } catch (error) {
    const input = error instanceof InputError ? { input: { where: error.where, problem: error.problem, ...(error.expected ? { expected: error.expected } : {}) } } : {};
    send({ kind: 'init_failed', ...describe(error), ...input });
    store?.close();
    await Promise.all(owned.map((m) => m.close?.()));
    port.close();
    return;
  }
  const startGate = createStartGate();
  const running = new Set<Promise<void>>();
  // Rollouts finishing in the same loop turn share a transaction, as on the main thread.
  const commit = store && createBatcher<Rollout>({ ...STORE_BATCHING, run: (rollouts) => store.commitRollouts(rollouts) });
  type RolloutMessage = Extract<ToThread, { kind: 'rollout' }>;

  /** Runs and stores the rollout here; the main thread gets the rollout, or why it could not be stored. */
  const storeOwn = async (own: SqliteStore, message: RolloutMessage, started: () => void): Promise<FromThread> => {
    const { seq } = message;
    // The main thread chose the attempt: it knows what the store holds.
    // What the earlier attempts spent is read from the file, as the main thread would read it.
    const recording = { nextAttempt: () => message.firstAttempt, recorder: own.recorder.bind(own), attemptsSpend: own.attemptsSpend.bind(own) };
    const rollout = await executeRollout({ ...ctx, store: recording }, message.task, message.epoch, { onStarted: started });
    if (!rollout) return { kind: 'stored', seq, rollout: null };
    try {
      await commit!(rollout);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      return { kind: 'stored', seq, rollout, storeFailure: { path: error.path, problem: error.problem, message: error.message } };
    }
    return { kind: 'stored', seq, rollout };
  };

  /** Runs the rollout recording into memory; the main thread stores the record. */
  const capture = async (message: RolloutMessage, started: () => void): Promise<FromThread> => {
    const captured = new CapturedRollout({ rolloutId: rolloutIdFor(init.runId, message.task.id, message.epoch), firstAttempt: message.firstAttempt, ...(message.earlier ? { earlier: message.earlier } : {}) });
    const rollout = await executeRollout({ ...ctx, store: captured }, message.task, message.epoch, { onStarted: started });
    return { kind: 'result', seq: message.seq, result: rollout ? captured.result(rollout) : null };
  };

  const runOne = async (message: RolloutMessage) => {
    const started = await startGate();
    try {
      if (stop.signal.aborted) return send(store ? { kind: 'stored', seq: message.seq, rollout: null } : { kind: 'result', seq: message.seq, result: null });
      send(store ? await storeOwn(store, message, started) : await capture(message, started));
    } catch (error) {
      send({ kind: 'failed', seq: message.seq, ...describe(error) });
    } finally {
      started();
    }
  };
  port.on('message', (message: ToThread) => {
    switch (message.kind) {
      case 'rollout': {
        const done = runOne(message).finally(() => running.delete(done));
        running.add(done);
        return;
      }
      case 'abort':
        stop.abort(new Error(message.reason));
        return;
      case 'close':
        void Promise.all(running)
          .then(() => Promise.all(owned.map((m) => m.close?.())))
          // The thread ends after this: its sandboxes' deletes must not be cut off.
          .then(() => processClosing.settled())
          .then(() => closeStore(store))
          .finally(() => {
            send({ kind: 'closed' });
            port.close();
          });
        return;
    }
  });
  send({ kind: 'ready', ...(niceness === undefined ? {} : { niceness }) });
}

/**
 * Closes this thread's connection. A write failure no rollout of this thread was told of (appends
 * of rollouts the run stopped before they finished) changes nothing stored: those rollouts are
 * missing, and --resume runs them.
 */
function closeStore(store: SqliteStore | undefined): void {
  try {
    store?.close();
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
  }
}

await serve(workerData as ThreadInit);
