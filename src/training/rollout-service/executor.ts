import { createStartGate, type RolloutEvent } from '../../runner/index.ts';
import { driveRollout, type DriverContext } from './driver.ts';
import type { FinishedMember } from './rows.ts';
import type { GroupExecutor, GroupWork } from './scheduler.ts';

/** At most `limit` holders at once; waiters are served first come, first served and leave when their signal fires. */
class Slots {
  private held = 0;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(private readonly limit: number) {}

  get running(): number {
    return this.held;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves true with a slot, or false if `signal` fired first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', leave);
          this.held++;
          resolve(true);
        },
      };
      const leave = (): void => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        resolve(false);
      };
      signal.addEventListener('abort', leave, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(): void {
    this.held--;
    this.waiting.shift()?.grant();
  }
}

export interface ServiceExecutor extends GroupExecutor {
  stats(): { rolloutsRunning: number; rolloutsQueued: number };
}

/**
 * Runs a group as G rollouts of one task in one world (epochs world·G … world·G + G − 1, which
 * share a seed and a group id as in `gauntlet run --group-size G`), at most `concurrency` rollouts
 * at a time across all groups. Each rollout is committed to the store as it ends, cancelled ones
 * included; a member still queued when its group is cancelled never starts and is not recorded.
 */
export function serviceExecutor(ctx: DriverContext & { concurrency: number; onRollout?: (event: RolloutEvent) => void }): ServiceExecutor {
  const slots = new Slots(ctx.concurrency);
  // As in executeRun: episode starts are paced, so a burst of starts does not starve I/O.
  const startGate = createStartGate();
  const size = ctx.config.groupSize;
  const runMember = async (work: GroupWork, epoch: number): Promise<FinishedMember | null> => {
    if (!(await slots.acquire(work.signal))) return null;
    const started = await startGate();
    try {
      if (work.signal.aborted) return null;
      const { env } = work.task;
      ctx.onRollout?.({ type: 'started', env });
      const rollout = await driveRollout(ctx, { task: work.task, epoch, signal: work.signal, onCall: work.onCall, onStarted: started }).finally(() => ctx.onRollout?.({ type: 'ended', env }));
      ctx.store.commitRollout(rollout);
      ctx.onRollout?.({ type: 'finished', rollout });
      return { rollout, calls: ctx.store.modelCalls(rollout.id).filter((c) => c.attempt === rollout.attempt) };
    } finally {
      started();
      slots.release();
    }
  };
  return {
    async run(work) {
      const epochs = Array.from({ length: size }, (_, i) => work.world * size + i);
      const members = await Promise.all(epochs.map((epoch) => runMember(work, epoch)));
      return members.filter((m): m is FinishedMember => m !== null);
    },
    stats: () => ({ rolloutsRunning: slots.running, rolloutsQueued: slots.queued }),
  };
}
