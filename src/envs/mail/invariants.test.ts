import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mailTasks } from './index.ts';
import { episode, playGolden, signal, unrelatedMessageId } from './test-support.ts';

const tasks = mailTasks();

/** Plays the golden solution, then one extra unrelated action, and returns the failed check names. */
async function goldenPlus(taskIndex: number, extra: (messageId: string) => { tool: string; arguments: Record<string, unknown> }, seed: number): Promise<string[]> {
  const task = tasks[taskIndex]!;
  const env = await episode(task, seed);
  try {
    const answer = await playGolden(env, task);
    const action = extra(await unrelatedMessageId(env, task));
    const out = await env.call(action.tool, action.arguments, { signal });
    assert.ok(out.ok, `${task.id}: extra ${action.tool} failed: ${out.ok ? '' : out.error}`);
    const outcome = await env.verify({ answer });
    return outcome.checks.filter((c) => !c.passed).map((c) => `${c.kind}:${c.name}`);
  } finally {
    await env.close();
  }
}

describe('mail invariants', () => {
  const extras = {
    'an unrelated send': () => ({ tool: 'send_message', arguments: { to: ['stranger@elsewhere.example'], subject: 'Hello', body: 'Unrelated.' } }),
    'an unrelated delete': (id: string) => ({ tool: 'delete_message', arguments: { messageId: id } }),
    'an unrelated move': (id: string) => ({ tool: 'move_message', arguments: { messageId: id, folder: 'trash' } }),
    'an unrelated label': (id: string) => ({ tool: 'add_label', arguments: { messageId: id, label: 'misc' } }),
  };
  for (const [what, extra] of Object.entries(extras)) {
    it(`fails every task whose golden path is followed by ${what}, through an invariant`, async () => {
      for (const [i, task] of tasks.entries()) {
        const failed = await goldenPlus(i, extra, 1 + (i % 2));
        assert.ok(failed.length > 0, `${task.id} still passes`);
        assert.ok(failed.every((f) => f.startsWith('invariant:')), `${task.id}: ${failed.join(', ')}`);
      }
    });
  }
});
