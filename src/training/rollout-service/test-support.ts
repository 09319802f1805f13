// Helpers for this folder's tests and bench: a small environment, a fake-engine policy whose samples differ
// between group members, a gate that holds chosen model requests until a test releases them, a
// manual clock, and a condition wait.
import { z } from 'zod';
import { createRng, Task, type TaskInput } from '../../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, rowsOf, type EnvironmentDefinition } from '../../envs/index.ts';
import type { EnvironmentCatalog } from '../../runner/index.ts';
import { openStore } from '../../store/index.ts';
import { toolWalkPolicy, type FakeEngine, type FakePolicy } from '../fake-engine/index.ts';
import type { RolloutServiceOptions } from './service.ts';

/** Buttons: pressing red is what every task asks for; blue presses are harmless noise. */
export const buttonsEnv: EnvironmentDefinition = defineEnvironment({
  name: 'buttons',
  description: 'two buttons and a press log (rollout service tests)',
  schema: 'CREATE TABLE presses (n INTEGER PRIMARY KEY AUTOINCREMENT, button TEXT NOT NULL)',
  startTime: '2026-01-05T09:00:00Z',
  seed: () => undefined,
  tools: {
    press: defineTool({
      description: 'Press a button.',
      input: z.object({ button: z.enum(['red', 'blue']) }),
      run: ({ button }, { db }) => {
        db.prepare('INSERT INTO presses (button) VALUES (?)').run(button);
        return `pressed ${button}`;
      },
    }),
  },
  checks: {
    pressed: defineCheck({
      kind: 'outcome',
      description: 'a button was pressed at least once',
      params: z.object({ button: z.enum(['red', 'blue']) }),
      run: ({ button }, { final }) => ({ passed: rowsOf(final, 'presses').some((r) => r.button === button) }),
    }),
  },
  tasks: () => [],
  destructive: () => [],
});

/** A buttons task; `slow` tasks carry a marker the gate recognises, and more turns. */
export function buttonTask(id: string, options: { slow?: boolean } = {}): Task {
  const input: TaskInput = {
    id: `buttons/${id}`,
    env: 'buttons',
    instruction: `${options.slow ? '[slow] ' : ''}Press the red button (${id}).`,
    verifier: { checks: [{ check: 'pressed', button: 'red' }] },
    golden: { steps: [{ tool: 'press', arguments: { button: 'red' } }], answer: 'done' },
    tags: { domain: 'buttons', difficulty: options.slow ? 'hard' : 'easy' },
    limits: { maxTurns: options.slow ? 10 : 2, deadlineMs: 60_000 },
  };
  return Task.parse(input);
}

export function buttonsCatalog(tasks: Task[]): EnvironmentCatalog {
  const env = { ...buttonsEnv, tasks: () => tasks };
  return { names: () => ['buttons'], get: () => env };
}

/**
 * The fake engine's tool walk (3 tool turns, then an answer) with a fresh random stream per
 * request: identical prompts (members of one group) get different samples, as sampling at
 * temperature 1 gives, so rewards and advantages within a group differ.
 */
export function sampledToolWalk(seed = 1): FakePolicy {
  const walk = toolWalkPolicy({ turns: 3 });
  let requests = 0;
  return { name: 'sampled-tool-walk', next: (request) => walk.next({ ...request, rng: createRng(`${seed}:${requests++}`) }) };
}

/** Holds the model requests `holds` picks until `release`; everything else passes straight through. */
export class Gate {
  private readonly waiting: (() => void)[] = [];
  private watchers: { count: number; resolve: () => void }[] = [];
  holding = true;

  constructor(private readonly holds: (body: { messages: { role: string; content?: unknown }[] }) => boolean) {}

  get held(): number {
    return this.waiting.length;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const text = typeof init?.body === 'string' ? init.body : '';
    if (this.holding && text && this.holds(JSON.parse(text) as { messages: { role: string; content?: unknown }[] })) {
      // A held request still ends when its caller gives up (a cancelled rollout).
      await new Promise<void>((resolve) => {
        const go = (): void => {
          init?.signal?.removeEventListener('abort', go);
          const at = this.waiting.indexOf(go);
          if (at >= 0) this.waiting.splice(at, 1);
          resolve();
        };
        init?.signal?.addEventListener('abort', go, { once: true });
        this.waiting.push(go);
        this.notify();
      });
    }
    return fetch(input, init);
  };

  /** Resolves once `count` requests are held. */
  heldAtLeast(count: number): Promise<void> {
    if (this.waiting.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  /** Lets every held request go; with `stop`, holds nothing more. */
  release(options: { stop?: boolean } = {}): void {
    if (options.stop) this.holding = false;
    for (const go of [...this.waiting]) go();
  }

  private notify(): void {
    const ready = this.watchers.filter((w) => this.waiting.length >= w.count);
    this.watchers = this.watchers.filter((w) => this.waiting.length < w.count);
    for (const w of ready) w.resolve();
  }
}

/** Whether a chat request belongs to a slow task (its first user message carries the marker). */
export function isSlow(body: { messages: { role: string; content?: unknown }[] }): boolean {
  const user = body.messages.find((m) => m.role === 'user');
  return typeof user?.content === 'string' && user.content.startsWith('[slow]');
}

/** Assistant messages already in a chat request: 0 for a rollout's first call. */
export function turnOf(body: { messages: { role: string }[] }): number {
  return body.messages.filter((m) => m.role === 'assistant').length;
}

export function manualClock(start = Date.UTC(2026, 0, 5, 9)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Waits until `condition` holds (checked every few ms); fails after `timeoutMs` naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Service options for tests: the two button tasks on an in-memory store, against `engine`, on a free port. */
export function serviceOptions(engine: FakeEngine, over: Partial<RolloutServiceOptions> = {}): RolloutServiceOptions {
  const tasks = [buttonTask('a'), buttonTask('b')];
  return {
    store: openStore(':memory:'),
    run: { envs: ['buttons'], model: `openai:${engine.url}#${engine.model}`, groupSize: 2, concurrency: 4, seed: 1 },
    catalog: buttonsCatalog(tasks),
    port: 0,
    window: 0,
    modelEnvironment: { env: {} },
    ...over,
  };
}
