// Rollout threads run at a lower CPU priority than the main thread. On a machine whose cores are
// all busy (rollout threads, a local model server) the kernel otherwise shares them out evenly,
// and the main thread, which keeps the run's timers, reads and store, waits its turn behind a
// rollout thread's whole time slice: that was the longest event-loop stall with two threads on
// two cores (docs/design/throughput.md). The main thread needs a small share, so giving it
// precedence costs the rollouts little.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How many nice levels below the process rollout threads run (Linux: 19 is the lowest priority). */
export const ROLLOUT_THREAD_NICENESS = 10;
const LOWEST = 19;

/** The calling thread's kernel id on Linux (`/proc/thread-self` names it); undefined elsewhere. */
export function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowers the calling thread's priority by `by` nice levels and returns its new nice level. Only
 * Linux keeps a nice level per thread; elsewhere (or where the kernel refuses) nothing changes and
 * this returns undefined: the thread runs as before, only without the precedence for the main thread.
 * Processes the thread starts (sandboxed commands) inherit the lower priority.
 */
export function lowerThreadPriority(by = ROLLOUT_THREAD_NICENESS): number | undefined {
  const tid = currentThreadId();
  if (tid === undefined) return undefined;
  try {
    const nice = Math.min(LOWEST, getPriority(tid) + by);
    setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
