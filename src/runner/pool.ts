/** Runs `work` over `items` with at most `limit` in flight; resolves when all are done. */
/**
 * Runs `work` on every item, at most `limit` at once. After the first failure no item starts, and
 * the failure is thrown once those already started have ended: rejecting at once would leave them
 * running (writing to a store, holding sandboxes) after the caller had moved on.
 */
export async function forEachConcurrent<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

/** Call once the start's own work is done (its world reset); calling it again does nothing. */
export type StartDone = () => void;

/**
 * Paces starts. Starting an episode (instantiate, seed the world) is synchronous work of a few ms;
 * a thousand rollouts starting at once would otherwise run back to back and freeze the loop for
 * seconds, with no response read and no request sent. Each turn of the event loop admits one
 * waiter; when a start reports itself done within the turn's budget, the next is admitted straight
 * away. Starts come first: a rollout that has not started has all its turns ahead of it, so the
 * last start bounds when the run can end. The budget is what the rest of the last loop turn left
 * of `turnMs` (50 ms by default), at least `budgetMs` (10) and at most `maxBudgetMs` (25): with
 * the loop idle starts get 25 ms a turn, and once responses fill the turns the turn stays near
 * 50 ms, far from a 100 ms stall. Starts that wait on I/O (a sandbox) end the turn's chain.
 */
export function createStartGate(options: { budgetMs?: number; maxBudgetMs?: number; turnMs?: number } = {}): () => Promise<StartDone> {
  const minBudgetMs = options.budgetMs ?? 10;
  const maxBudgetMs = Math.max(minBudgetMs, options.maxBudgetMs ?? 25);
  const turnMs = options.turnMs ?? 50;
  const waiting: ((done: StartDone) => void)[] = [];
  let ticking = false;
  let turnStarted = 0;
  let budgetMs = minBudgetMs;
  let chainEnded = 0;
  const admit = () => {
    const waiter = waiting.shift();
    if (!waiter) return;
    let reported = false;
    waiter(() => {
      if (reported) return;
      reported = true;
      chainEnded = performance.now();
      if (chainEnded - turnStarted < budgetMs) admit();
    });
  };
  const tick = () => {
    const now = performance.now();
    // What the rest of the loop did since this gate's last starts ended.
    const others = ticking && chainEnded > turnStarted ? now - chainEnded : 0;
    budgetMs = Math.min(maxBudgetMs, Math.max(minBudgetMs, turnMs - others));
    turnStarted = now;
    admit();
    ticking = waiting.length > 0;
    // An immediate scheduled from the check phase runs in the next loop iteration, after I/O polling.
    if (ticking) setImmediate(tick);
  };
  return () =>
    new Promise<StartDone>((resolve) => {
      waiting.push(resolve);
      if (!ticking) {
        ticking = true;
        setImmediate(tick);
      }
    });
}

/**
 * Runs jobs in the order given, spending at most `budgetMs` on them per turn of the event loop.
 * Rollout threads finish rollouts in bursts; storing a burst back to back would hold the loop for
 * as long as the whole burst takes.
 */
export function createPacedQueue(budgetMs: number): <T>(job: () => T) => Promise<T> {
  const queue: (() => void)[] = [];
  let scheduled = false;
  const drain = () => {
    const started = performance.now();
    while (queue.length > 0 && performance.now() - started < budgetMs) queue.shift()!();
    scheduled = queue.length > 0;
    if (scheduled) setImmediate(drain);
  };
  return (job) =>
    new Promise((resolve, reject) => {
      queue.push(() => {
        try {
          resolve(job());
        } catch (error) {
          reject(error);
        }
      });
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    });
}

/**
 * Storing finished rollouts, wherever it happens (the main thread, or a rollout thread writing to
 * the store itself): at most `budgetMs` of a loop turn and `maxBatch` rollouts a transaction. A
 * batch is never split, so its cost adds to the budget (16 rollouts of 11 calls took ~80 ms with
 * the call rows' flushes; 20 ms and 32 rollouts let one loop turn reach ~200 ms).
 */
export const STORE_BATCHING = { budgetMs: 10, maxBatch: 8 } as const;

/**
 * Collects items and hands them to `run` in batches of at most `maxBatch`, spending at most
 * `budgetMs` per turn of the event loop. Each item's promise settles with its batch: storing a
 * burst of finished rollouts in a few transactions costs a fraction of one transaction each.
 */
export function createBatcher<T>(options: { budgetMs: number; maxBatch: number; run: (items: T[]) => void | Promise<void> }): (item: T) => Promise<void> {
  const queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  const drain = () => {
    const started = performance.now();
    while (queue.length > 0 && performance.now() - started < options.budgetMs) {
      const batch = queue.splice(0, options.maxBatch);
      try {
        const written = options.run(batch.map((b) => b.item));
        // A batch written elsewhere (a writer thread) settles when it is written.
        if (written) written.then(() => batch.forEach((b) => b.resolve()), (error: unknown) => batch.forEach((b) => b.reject(error)));
        else for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    scheduled = queue.length > 0;
    if (scheduled) setImmediate(drain);
  };
  return (item) =>
    new Promise((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    });
}

/** Awaited between one turn of a rollout and the next; `undefined` when the turn may go on now. */
export type TurnPace = () => Promise<void> | undefined;

/**
 * Bounds how long the event loop runs rollouts' turns back to back. A thousand rollouts whose
 * answers arrive together would otherwise each run a whole turn (record the call, run its tools,
 * send the next request) in the loop turn that read them, holding timers, heartbeats and
 * time-outs for hundreds of ms. Once this loop turn has spent `budgetMs`, a rollout's next turn
 * waits for the loop turn's check phase, after timers and I/O have had theirs. Waiters are woken
 * first come, first served, each by an immediate: Node runs an immediate's microtasks (the
 * rollout's turn) before the next immediate, so the budget is checked against the work actually
 * done, and an immediate set in the check phase waits for the next loop turn. The first wake-up
 * of a check phase starts a new slice and always wakes a waiter, so every waiter gets its turn;
 * that slice runs on through the next loop turn's timers and I/O, so the time between two timers
 * phases is at most about twice the budget. Not timers: Node holds a 0 ms timer for 1 ms, and
 * rollouts whose model answers at once (an in-process or very fast one) sat idle that long every
 * turn.
 *
 * A check phase gets about as many wake-ups as the last one could use (twice as many, at least
 * MIN_WAKEUPS), not one per waiter: at a thousand rollouts hundreds wait, and an immediate each,
 * set again every loop turn they did not fit, came to 17 immediates per turn that went.
 */
export function createTurnPacer(options: { budgetMs: number }): TurnPace {
  let sliceStarted: number | undefined;
  /** Which slice is current, so a slice's end-of-loop-turn reset does not end a later one. */
  let slice = 0;
  const waiters: (() => void)[] = [];
  /** Wake-ups set for the coming check phase; waiters woken in this check phase and in the last. */
  let armed = 0;
  let wokenNow = 0;
  let wokenLast = 0;

  const startSlice = (now: number): void => {
    sliceStarted = now;
    const started = ++slice;
    setImmediate(() => {
      if (slice === started) sliceStarted = undefined;
    });
  };
  // A slice starts at the loop turn's first paced work and ends at its check phase.
  const elapsed = (): number => {
    const now = performance.now();
    if (sliceStarted === undefined) startSlice(now);
    return now - (sliceStarted as number);
  };
  const arm = (): void => {
    const count = Math.min(waiters.length, Math.max(MIN_WAKEUPS, 2 * wokenLast));
    armed += count;
    for (let i = 0; i < count; i++) setImmediate(wake);
  };
  const wake = (): void => {
    if (wokenNow === 0 && waiters.length > 0) startSlice(performance.now());
    armed--;
    if (waiters.length > 0 && (wokenNow === 0 || elapsed() < options.budgetMs)) {
      wokenNow++;
      waiters.shift()!();
    }
    if (armed > 0) return;
    // The last wake-up of this check phase: the rest wait for the next one.
    wokenLast = wokenNow;
    wokenNow = 0;
    if (waiters.length > 0) arm();
  };
  return () => {
    if (waiters.length === 0 && elapsed() < options.budgetMs) return undefined;
    return new Promise<void>((resolve) => {
      waiters.push(resolve);
      if (armed === 0) arm();
    });
  };
}

/** Wake-ups a check phase gets at least, while turns wait. */
const MIN_WAKEUPS = 8;
