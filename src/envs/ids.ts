import type { IdGenerator } from './define.ts';

/** An episode's id generator, able to say where it stands so an episode can continue from a task image. */
export interface CountingIdGenerator extends IdGenerator {
  /** The last number handed out per prefix. */
  counters(): Record<string, number>;
}

/** Deterministic ids per prefix (msg_0001, msg_0002, …), continuing from `start` when given. */
export function createIdGenerator(start: Readonly<Record<string, number>> = {}): CountingIdGenerator {
  const counters = new Map<string, number>(Object.entries(start));
  return {
    next(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}_${String(n).padStart(4, '0')}`;
    },
    counters: () => Object.fromEntries(counters),
  };
}
