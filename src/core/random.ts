/** A small seeded PRNG (mulberry32): deterministic across platforms, fast, good enough for sampling. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(minInclusive: number, maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: readonly T[]): T[];
  /** A new independent stream derived from this one and a label. */
  fork(label: string): Rng;
}

export function createRng(seed: number | string): Rng {
  let state = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min)),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]];
      }
      return out;
    },
    fork: (label) => createRng(`${state}:${label}`),
  };
  positions.set(rng, () => state);
  return rng;
}

const positions = new WeakMap<Rng, () => number>();

/** Where a stream made by createRng stands: `createRng(rngPosition(rng))` goes on exactly as `rng` would. */
export function rngPosition(rng: Rng): number {
  const position = positions.get(rng);
  if (!position) throw new Error('rngPosition: not a stream made by createRng');
  return position();
}

export function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** A clock that only moves when told to: environments use it so the same actions give the same timestamps. */
export interface Clock {
  now(): Date;
  advance(ms: number): void;
}

export function createSeededClock(start: Date | string, stepMs = 0): Clock {
  let current = new Date(start).getTime();
  return {
    now: () => {
      const value = new Date(current);
      current += stepMs;
      return value;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

export const systemClock: Clock = {
  now: () => new Date(),
  advance: () => {
    throw new Error('the system clock cannot be advanced');
  },
};
