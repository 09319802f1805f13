// The training consumer's side of a queued run: `takeFinished` waits until a batch can be taken
// through the window (window.ts), one take at a time, and loads the rollouts from the store.
import type { Rollout, Store } from '../../core/index.ts';
import { windowOf, type FinishWindow, type StalenessReport } from './window.ts';

export interface TakenBatch {
  rollouts: Rollout[];
  /** Their places in the enqueued order. */
  positions: number[];
  /** True when the run has ended: no further rollout will finish in this session. */
  ended: boolean;
  staleness: StalenessReport;
}

export interface TakeOptions {
  /** Stops waiting (the take rejects; nothing is taken). */
  signal?: AbortSignal;
}

export class FinishedRollouts {
  private readonly window: FinishWindow;
  private readonly load: (position: number) => Rollout | null;
  private ended = false;
  private wake: () => void = () => {};
  private changed = new Promise<void>((resolve) => (this.wake = resolve));
  private takes: Promise<unknown> = Promise.resolve();

  constructor(options: { window: FinishWindow; store: Pick<Store, 'getRollout'>; rolloutIdAt: (position: number) => string }) {
    this.window = options.window;
    this.load = (position) => options.store.getRollout(options.rolloutIdAt(position));
  }

  /** Something finished or was abandoned: waiting takes look again. */
  notify(): void {
    const wake = this.wake;
    this.changed = new Promise<void>((resolve) => (this.wake = resolve));
    wake();
  }

  /** The session is over: what has not finished never will, and waiting takes return what they can. */
  end(): void {
    this.window.abandonRest();
    this.ended = true;
    this.notify();
  }

  /** `batch` finished rollouts from the window, or fewer once the session has ended. Takes run one after another. */
  async take(request: unknown, options: TakeOptions = {}): Promise<TakenBatch> {
    const { batch, window } = windowOf(request);
    const attempt = async (): Promise<TakenBatch> => {
      // One listener for the whole wait, removed after: a take that waits through thousands of
      // finishes must not leave one behind on the caller's signal for each.
      let stopWaiting = () => {};
      const aborted = new Promise<void>((resolve) => (stopWaiting = resolve));
      options.signal?.addEventListener('abort', stopWaiting, { once: true });
      try {
        for (;;) {
          options.signal?.throwIfAborted();
          const plan = this.window.plan(batch, window);
          if (plan.length >= batch || this.ended) {
            const taken = this.window.take(plan.slice(0, batch), { batch, window });
            const rollouts = taken.map((t) => this.load(t.position)).filter((r): r is Rollout => r !== null);
            return { rollouts, positions: taken.map((t) => t.position), ended: this.ended, staleness: this.window.report() };
          }
          await Promise.race([this.changed, aborted]);
        }
      } finally {
        options.signal?.removeEventListener('abort', stopWaiting);
      }
    };
    const result = this.takes.then(attempt, attempt);
    this.takes = result.catch(() => undefined);
    return result;
  }

  staleness(): StalenessReport {
    return this.window.report();
  }
}
