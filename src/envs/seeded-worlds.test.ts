// Episodes that repeat a world (a group's rollouts, a retry, validate's plays) start from a copy of
// the first one's seeded database: every built-in environment that declares its seed reusable must
// then play exactly as when seeded afresh, through its golden solution, its destructive actions and
// a verify, for every task.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stableStringify } from '../core/index.ts';
import { seededWorldCounts } from './images.ts';
import { environmentNames, getEnvironment, instantiate } from './index.ts';
import type { EnvironmentDefinition } from './define.ts';
import type { Task } from '../core/index.ts';

const signal = new AbortController().signal;

/** Everything an episode shows: the world after reset, each call's outcome, the verdict, the world at the end. */
async function play(definition: EnvironmentDefinition, task: Task, seed: number): Promise<string> {
  const env = instantiate(definition);
  try {
    await env.reset(task, { seed });
    const seen: unknown[] = [await env.snapshot()];
    for (const step of task.golden.steps) seen.push(await env.call(step.tool, step.arguments, { signal }));
    seen.push(await env.verify({ answer: task.golden.answer ?? null }));
    for (const step of await env.destructiveActions()) seen.push(await env.call(step.tool, step.arguments, { signal }));
    seen.push(await env.snapshot(), await env.verify({ answer: task.golden.answer ?? null }));
    return stableStringify(seen as never);
  } finally {
    await env.close();
  }
}

const reusable = environmentNames().filter((name) => getEnvironment(name).seededWorlds && !getEnvironment(name).sandbox);

describe('seeded worlds kept and reused', () => {
  it('covers the environments that declare their seeds reusable', () => {
    assert.deepEqual([...reusable].sort(), ['calendar', 'mail', 'notes', 'workplace']);
  });

  for (const name of reusable) {
    it(`${name}: every task plays the same from a kept world as from a fresh seed`, async () => {
      const definition = getEnvironment(name);
      for (const task of definition.tasks()) {
        const seed = 7;
        const fresh = await play(definition, task, seed);
        await play(definition, task, seed); // seeds again and keeps the world
        const reused = seededWorldCounts.reused;
        const fromKept = await play(definition, task, seed);
        assert.equal(seededWorldCounts.reused, reused + 1, `${task.id}: the third episode of the world did not start from the kept copy`);
        assert.equal(fromKept, fresh, `${task.id}: an episode from the kept world differs from one seeded afresh`);
      }
    });
  }

  it('keeps one world per seed: another seed is seeded, not served the kept one', async () => {
    const definition = getEnvironment('mail');
    const task = definition.tasks()[0]!;
    for (let i = 0; i < 3; i++) await play(definition, task, 11);
    const reused = seededWorldCounts.reused;
    const other = await play(definition, task, 12);
    assert.equal(seededWorldCounts.reused, reused);
    assert.notEqual(other, await play(definition, task, 11));
  });
});
