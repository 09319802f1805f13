/** Runs `work` over `items` with at most `limit` in flight; resolves when all are done. */
export async function forEachConcurrent<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Lets one waiter through per turn of the event loop. Starting an episode (instantiate, seed the
 * world) is synchronous work of a few ms; a thousand rollouts starting at once would otherwise
 * run every start back to back and freeze the loop for seconds, with no response read and no
 * request sent. Through the gate, I/O is served between any two starts.
 */
export function createStartGate(): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    // An immediate scheduled from the check phase runs in the next loop iteration, after I/O polling.
    last = last.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    return last;
  };
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
 * Collects items and hands them to `run` in batches of at most `maxBatch`, spending at most
 * `budgetMs` per turn of the event loop. Each item's promise settles with its batch: storing a
 * burst of finished rollouts in a few transactions costs a fraction of one transaction each.
 */
export function createBatcher<T>(options: { budgetMs: number; maxBatch: number; run: (items: T[]) => void }): (item: T) => Promise<void> {
  const queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  const drain = () => {
    const started = performance.now();
    while (queue.length > 0 && performance.now() - started < options.budgetMs) {
      const batch = queue.splice(0, options.maxBatch);
      try {
        options.run(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
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
