import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatcher, createStartGate, createTurnPacer, forEachConcurrent } from './pool.ts';

/** Counts turns of the event loop (one per check phase) until stopped. */
function turnCounter() {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { now: () => turns, stop: () => (running = false) };
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Runs `count` starts of 4 ms each through `gate`; how many ran in each loop turn, in order. */
async function startsOf4msPerTurn(gate: ReturnType<typeof createStartGate>, count: number): Promise<number[]> {
  const turns = turnCounter();
  const perTurn = new Map<number, number>();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const done = await gate();
      busy(4);
      perTurn.set(turns.now(), (perTurn.get(turns.now()) ?? 0) + 1);
      done();
    }),
  );
  turns.stop();
  return [...perTurn.values()];
}

describe('the start gate', () => {
  it('admits cheap starts that report done many to a turn, not one per turn', async () => {
    const gate = createStartGate({ budgetMs: 50 });
    const turns = turnCounter();
    const admittedAt: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        const done = await gate();
        admittedAt.push(turns.now());
        done();
      }),
    );
    turns.stop();
    assert.equal(admittedAt.length, 200);
    assert.ok(new Set(admittedAt).size < 20, `200 starts took ${new Set(admittedAt).size} turns`);
  });

  it('keeps each turn\'s starts within its budget', async () => {
    const perTurn = await startsOf4msPerTurn(createStartGate({ budgetMs: 10, maxBudgetMs: 10 }), 30);
    // 4 ms each in a 10 ms budget: the third start begins at 8 ms, a fourth would begin past the budget.
    assert.ok(Math.max(...perTurn) <= 3, `a turn ran ${Math.max(...perTurn)} starts`);
    assert.ok(perTurn.length >= 10);
  });

  it('gives starts what the rest of the loop turn leaves of the turn, within its bounds', async () => {
    const busiestTurn = async (otherWorkMs: number): Promise<number> => {
      let running = true;
      // Other work in every loop turn, as a thousand rollouts' responses would be.
      const other = () => {
        busy(otherWorkMs);
        if (running) setImmediate(other);
      };
      if (otherWorkMs > 0) setImmediate(other);
      const perTurn = await startsOf4msPerTurn(createStartGate({ budgetMs: 10, maxBudgetMs: 25, turnMs: 50 }), 40);
      running = false;
      // The first turn has no last turn to go by; it gets the most.
      return Math.max(...perTurn.slice(1));
    };
    // An idle loop: 25 ms of starts a turn (starts begin at 0, 4, … 24 ms), not the minimum 10
    // (at most 3). The budget is wall time: a preempted start leaves room for fewer, never more.
    const idle = await busiestTurn(0);
    assert.ok(idle >= 4 && idle <= 7, `an idle loop ran ${idle} starts in a turn`);
    // 45 ms of other work a turn leaves 5 ms of a 50 ms turn: starts get the minimum, 10 ms.
    const busyLoop = await busiestTurn(45);
    assert.ok(busyLoop <= 3, `a busy loop ran ${busyLoop} starts in a turn`);
  });

  it('still admits one start per turn when starts never report done', async () => {
    const gate = createStartGate();
    const admitted = await Promise.all(Array.from({ length: 5 }, () => gate().then(() => true)));
    assert.deepEqual(admitted, [true, true, true, true, true]);
  });
});

describe('the batcher', () => {
  it('hands items over in batches of at most maxBatch, settling each with its batch', async () => {
    const batches: number[][] = [];
    const add = createBatcher<number>({ budgetMs: 1000, maxBatch: 4, run: (items) => void batches.push(items) });
    await Promise.all(Array.from({ length: 10 }, (_, i) => add(i)));
    assert.deepEqual(batches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const failing = createBatcher<number>({ budgetMs: 1000, maxBatch: 2, run: () => { throw new Error('disk full'); } });
    await assert.rejects(failing(1), /disk full/);
  });
});

describe('the turn pacer', () => {
  it('lets turns go straight on while the loop turn is within its budget', () => {
    const pace = createTurnPacer({ budgetMs: 50 });
    assert.equal(pace(), undefined);
    assert.equal(pace(), undefined);
  });

  it('wakes a waiting turn in the same loop turn, not on a timer (which waits at least 1 ms)', async () => {
    // Run from a timer callback, so the loop's next phases are poll, then check, then the next
    // loop turn's timers. A rollout whose model answers at once waited ~1 ms a turn on timers:
    // 100-step rollouts on an in-process model ran at a tenth of their speed, the process idle.
    // Nothing here waits for time to pass: which comes first is decided by the loop's phases (a
    // timer runs only in a timers phase, after this loop turn's check phase), however busy the
    // machine, and the test ends once both have happened.
    const order = await new Promise<string[]>((resolve) =>
      setTimeout(() => {
        const seen: string[] = [];
        // Done once both have happened, in whichever order they came.
        const note = (what: string) => {
          seen.push(what);
          if (seen.length === 2) resolve(seen);
        };
        const pace = createTurnPacer({ budgetMs: 5 });
        assert.equal(pace(), undefined);
        busy(6);
        // The timer being raced, set ahead of the waiting turn.
        setTimeout(() => note('timer'), 0);
        const waited = pace();
        assert.ok(waited, 'a turn past the budget waits');
        void waited.then(() => note('turn'));
      }, 0),
    );
    assert.deepEqual(order, ['turn', 'timer']);
  });

  it('sets immediates for the turns a check phase can wake, not one per waiter per loop turn', async () => {
    const pace = createTurnPacer({ budgetMs: 10 });
    const original = globalThis.setImmediate;
    let immediates = 0;
    globalThis.setImmediate = ((...args: Parameters<typeof setImmediate>) => {
      immediates++;
      return original(...args);
    }) as typeof setImmediate;
    let finished = 0;
    try {
      await Promise.all(
        Array.from({ length: 1000 }, async () => {
          const waited = pace();
          if (waited) await waited;
          busy(0.5);
          finished++;
        }),
      );
    } finally {
      globalThis.setImmediate = original;
    }
    assert.equal(finished, 1000);
    // About 20 turns fit a 10 ms slice: ~50 check phases of ~40 wake-ups. Even with one turn per
    // check phase (a starved machine) it is 9 a turn; an immediate per waiter per loop turn it sat
    // out came to ~25,000.
    assert.ok(immediates < 10_000, `${immediates} immediates for 1,000 paced turns`);
  });

  it('spreads a burst of turns over loop turns of about the budget each', async () => {
    const pace = createTurnPacer({ budgetMs: 10 });
    const turns = turnCounter();
    const perTurn = new Map<number, number>();
    let finished = 0;
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const waited = pace();
        if (waited) await waited;
        busy(4);
        perTurn.set(turns.now(), (perTurn.get(turns.now()) ?? 0) + 1);
        finished++;
      }),
    );
    turns.stop();
    assert.equal(finished, 40);
    // 4 ms each in a 10 ms budget: a third turn starts at 8 ms, a fourth would start past the budget.
    assert.ok(Math.max(...perTurn.values()) <= 3, `a loop turn ran ${Math.max(...perTurn.values())} paced turns`);
  });
});

describe('forEachConcurrent', () => {
  it('starts nothing after a failure, and throws it once the items already started have ended', async () => {
    const started: number[] = [];
    let running = 0;
    const failure = new Error('a bug in one item');
    await assert.rejects(
      forEachConcurrent([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (item) => {
        started.push(item);
        running++;
        try {
          if (item === 2) throw failure;
          // The others end a few turns later, after the failure.
          for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        } finally {
          running--;
        }
      }),
      (error: unknown) => error === failure,
    );
    // Rejecting at once left items 1 and 3 running, and their slots went on to start more.
    assert.equal(running, 0, 'an item was still running when the failure was thrown');
    assert.deepEqual(started, [1, 2, 3]);
  });
});
