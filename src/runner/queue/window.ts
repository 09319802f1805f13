// Windowed takes for training consumers. Rollouts are numbered in the order they were enqueued;
// a take may return any finished rollout among the first W positions not yet taken (the window
// [h, h + W), h the oldest position neither taken nor abandoned), oldest first, sliding as the
// head is taken. One slow rollout therefore holds nothing back until W − 1 later ones have passed
// it, and then it holds everything: so no rollout is overtaken by more than W − 1 others, and a
// slow, hard task cannot be left out of batches indefinitely (the bias toward fast tasks is bounded).
import { z } from 'zod';
import { InputError, parseInput } from '../../core/index.ts';

export const TakeRequest = z
  .object({
    /** How many finished rollouts to return. */
    batch: z.number().int().min(1),
    /** Positions a rollout may be taken from, counted from the oldest not yet taken. */
    window: z.number().int().min(1).optional(),
    /** The window as a fraction of the batch (W = max(1, round(fraction × batch))), instead of `window`. */
    windowFraction: z.number().positive().optional(),
  })
  .refine((r) => (r.window === undefined) !== (r.windowFraction === undefined), { message: 'exactly one of window (positions) or windowFraction' });
export type TakeRequest = z.infer<typeof TakeRequest>;

/** The request's batch and its window in positions. */
export function windowOf(request: unknown): { batch: number; window: number } {
  const r = parseInput(TakeRequest, request, 'takeFinished');
  const window = r.window ?? Math.max(1, Math.round((r.windowFraction ?? 0) * r.batch));
  return { batch: r.batch, window };
}

/** What the window allows and what the takes so far actually saw. */
export interface StalenessReport {
  window: number;
  batch: number;
  /** The most later-enqueued rollouts that can be taken before any rollout: W − 1. */
  maxOvertakenBound: number;
  /** The most batches a rollout can be taken later than strict enqueue order would take it: ⌈(W − 1) / B⌉. */
  maxBatchLagBound: number;
  taken: number;
  /** Observed: the most later-enqueued rollouts taken before a rollout that was itself taken. */
  maxOvertaken: number;
  /** Observed: the longest a finished rollout waited to be taken (ms). */
  maxWaitMs: number;
  /** Observed: the longest from enqueue to take (ms). */
  maxAgeMs: number;
}

type Slot = { state: 'pending' } | { state: 'finished'; finishedAt: number } | { state: 'taken' } | { state: 'abandoned' };

export interface TakenSlot {
  position: number;
  finishedAt: number;
}

export class FinishWindow {
  private readonly slots: Slot[];
  private head = 0;
  private readonly enqueuedAt: number;
  private readonly now: () => number;
  private observed = { taken: 0, maxOvertaken: 0, maxWaitMs: 0, maxAgeMs: 0 };
  private last: { batch: number; window: number } | null = null;

  constructor(options: { size: number; now: () => number }) {
    this.slots = Array.from({ length: options.size }, (): Slot => ({ state: 'pending' }));
    this.now = options.now;
    this.enqueuedAt = options.now();
  }

  get size(): number {
    return this.slots.length;
  }

  private slot(position: number): Slot {
    const slot = this.slots[position];
    if (!slot) throw new InputError('position', `${position} is outside the run's ${this.slots.length} enqueued rollouts`);
    return slot;
  }

  finish(position: number): void {
    if (this.slot(position).state === 'pending') this.slots[position] = { state: 'finished', finishedAt: this.now() };
  }

  /** The rollout will never finish in this session (its job failed): the window moves past it. */
  abandon(position: number): void {
    if (this.slot(position).state === 'pending') this.slots[position] = { state: 'abandoned' };
    this.advance();
  }

  /** The session is over: whatever has not finished never will here, and takes may pass it. */
  abandonRest(): void {
    for (let p = 0; p < this.slots.length; p++) if (this.slots[p]!.state === 'pending') this.slots[p] = { state: 'abandoned' };
    this.advance();
  }

  /** Whether no rollout can still finish. */
  get settled(): boolean {
    return this.slots.every((s) => s.state !== 'pending');
  }

  private gone(position: number): boolean {
    const state = this.slots[position]?.state;
    return state === 'taken' || state === 'abandoned';
  }

  private advance(): void {
    while (this.head < this.slots.length && this.gone(this.head)) this.head++;
  }

  /** The positions a take would return now, oldest first, without taking them. */
  plan(batch: number, window: number): number[] {
    const out: number[] = [];
    const takenNow = new Set<number>();
    let head = this.head;
    for (let p = head; p < this.slots.length && p < head + window && out.length < batch; p++) {
      if (this.slots[p]!.state !== 'finished') continue;
      out.push(p);
      takenNow.add(p);
      while (head < this.slots.length && (this.gone(head) || takenNow.has(head))) head++;
    }
    return out;
  }

  /** Takes the planned positions and records how stale each was. */
  take(positions: readonly number[], request: { batch: number; window: number }): TakenSlot[] {
    const at = this.now();
    this.last = request;
    const out = positions.map((position): TakenSlot => {
      const slot = this.slot(position);
      if (slot.state !== 'finished') throw new InputError('position', `${position} is ${slot.state}, not finished`);
      this.slots[position] = { state: 'taken' };
      return { position, finishedAt: slot.finishedAt };
    });
    this.advance();
    for (const { position, finishedAt } of out) {
      this.observed.taken++;
      this.observed.maxWaitMs = Math.max(this.observed.maxWaitMs, at - finishedAt);
      this.observed.maxAgeMs = Math.max(this.observed.maxAgeMs, at - this.enqueuedAt);
      // Later positions taken before this one. The bound says none lie W or more beyond it; the scan
      // looks twice as far, so a violation would show.
      let overtaken = 0;
      const batchPositions = new Set(out.map((o) => o.position));
      for (let q = position + 1; q < this.slots.length && q <= position + 2 * request.window; q++) if (this.slots[q]!.state === 'taken' && !batchPositions.has(q)) overtaken++;
      this.observed.maxOvertaken = Math.max(this.observed.maxOvertaken, overtaken);
    }
    return out;
  }

  report(): StalenessReport {
    const { batch, window } = this.last ?? { batch: 1, window: 1 };
    return { window, batch, maxOvertakenBound: window - 1, maxBatchLagBound: Math.ceil((window - 1) / batch), ...this.observed };
  }
}
