import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment, Task, ToolInvocation } from '../../core/index.ts';
import { rowsOf } from '../state.ts';
import { workplaceTasks } from './index.ts';
import { episode, play, signal } from './test-support.ts';

const tasks = workplaceTasks();

type Extra = [string, (env: Environment, task: Task) => Promise<ToolInvocation>];

/** The id of the first record a read-only listing returns that the task never mentions. */
async function firstUnmentioned(env: Environment, task: Task, read: ToolInvocation, pattern: RegExp): Promise<string> {
  const out = await env.call(read.tool, read.arguments, { signal });
  assert.ok(out.ok, `${task.id}: ${read.tool} failed`);
  const text = JSON.stringify(task);
  const id = [...out.content.matchAll(pattern)].map((m) => m[0]).find((found) => !text.includes(found));
  assert.ok(id, `${task.id}: nothing unrelated in ${read.tool}`);
  return id;
}

const fixed = (call: ToolInvocation) => () => Promise.resolve(call);

/** Unrelated actions per app, found after the golden path with read-only calls; each task gets one per app, rotating which. */
const EXTRAS: Record<'mail' | 'notes' | 'calendar' | 'chat', Extra[]> = {
  mail: [
    ['an unrelated send', fixed({ tool: 'send_message', arguments: { to: ['stranger@elsewhere.example'], subject: 'Hello', body: 'Unrelated.' } })],
    ['an unrelated delete', async (env, task) => ({ tool: 'delete_message', arguments: { messageId: await firstUnmentioned(env, task, { tool: 'search_messages', arguments: { folder: 'inbox', pageSize: 25 } }, /msg_\d{4}/g) } })],
    ['an unrelated new contact', fixed({ tool: 'add_contact', arguments: { name: 'Stray Person', email: 'stray@elsewhere.example' } })],
  ],
  notes: [
    ['an unrelated archive', fixed({ tool: 'archive_page', arguments: { page_id: 'okrs' } })],
    ['an unrelated page', fixed({ tool: 'create_page', arguments: { title: 'Scratch', parent_id: 'okrs' } })],
  ],
  calendar: [
    ['an unrelated event', fixed({ tool: 'create_event', arguments: { title: 'Unrelated', start: '2026-04-10T16:00:00+01:00', duration_minutes: 30 } })],
    ['a cancelled focus block', fixed({ tool: 'cancel_event', arguments: { event_id: 'focus-20260408' } })],
  ],
  chat: [
    ['an unrelated post', fixed({ tool: 'post_message', arguments: { channel: '#random', text: 'Unrelated.' } })],
    ['an unrelated DM', fixed({ tool: 'send_direct_message', arguments: { to: '@aisha', text: 'Unrelated.' } })],
    ['an unrelated reaction', async (env, task) => ({ tool: 'add_reaction', arguments: { message_id: await firstUnmentioned(env, task, { tool: 'read_channel', arguments: { channel: '#random' } }, /cm_\d{4}/g), emoji: 'tada' } })],
  ],
};

describe('workplace invariants', () => {
  // Two apps per task (every pair in turn) keeps the suite fast; across the tasks every app and every kind of action is tried many times.
  const PAIRS = [['mail', 'notes'], ['calendar', 'chat'], ['mail', 'chat'], ['notes', 'calendar'], ['mail', 'calendar'], ['notes', 'chat']] as const;

  it('fails every task when the golden path is followed by an unrelated action in another app, through an invariant only', async () => {
    const tried = new Set<string>();
    for (const [i, task] of tasks.entries()) {
      const seed = 1 + (i % 2);
      const golden = task.golden.steps.filter((s) => s.tool !== 'submit');
      const submit = task.golden.steps.filter((s) => s.tool === 'submit');
      for (const app of PAIRS[i % PAIRS.length]!) {
        const extras = EXTRAS[app];
        const [what, make] = extras[Math.floor(i / 2) % extras.length]!;
        tried.add(`${app}: ${what}`);
        const env = await episode(task, seed);
        try {
          await play(env, golden, task.id);
          const extra = await make(env, task);
          const out = await env.call(extra.tool, extra.arguments, { signal });
          assert.ok(out.ok, `${task.id}: ${app}: ${what} failed: ${out.ok ? '' : out.error}`);
          const answer = (await play(env, submit, task.id)) ?? task.golden.answer ?? null;
          const failed = (await env.verify({ answer })).checks.filter((c) => !c.passed);
          assert.ok(failed.length > 0, `${task.id} still passes after ${app}: ${what}`);
          assert.ok(failed.every((c) => c.kind === 'invariant'), `${task.id} after ${app}: ${what}: ${failed.map((c) => `${c.name} ${c.detail ?? ''}`).join('; ')}`);
        } finally {
          await env.close();
        }
      }
    }
    assert.equal(tried.size, Object.values(EXTRAS).flat().length, `only tried ${[...tried].join(', ')}`);
  });

  it('fails every long task whose golden path skips its last write', async () => {
    const reads = new Set(['search_messages', 'read_message', 'read_thread', 'list_folders', 'list_contacts', 'search_contacts', 'notes_search', 'get_page', 'query_database', 'list_members', 'list_events', 'get_event', 'find_free_slots', 'get_free_busy', 'list_people', 'list_channels', 'read_channel', 'search_chat', 'list_chat_users', 'submit']);
    for (const task of tasks.filter((t) => t.golden.steps.length >= 10)) {
      const last = task.golden.steps.findLastIndex((s) => !reads.has(s.tool));
      if (last < 0) continue;
      const env = await episode(task, 3);
      try {
        const answer = await play(env, task.golden.steps.filter((_, i) => i !== last), task.id);
        assert.equal((await env.verify({ answer: answer ?? task.golden.answer ?? null })).passed, false, task.id);
      } finally {
        await env.close();
      }
    }
  });

  it('keeps mail, notes, calendar and chat in one consistent world', async () => {
    const env = await episode(tasks[0]!, 1);
    try {
      const state = await env.snapshot();
      const emails = (table: string, column: string) => new Set(rowsOf(state, table).map((r) => String(r[column])));
      const members = emails('members', 'email');
      const people = emails('people', 'email');
      for (const u of rowsOf(state, 'chat_users')) {
        assert.ok(members.has(String(u.email)), `${String(u.email)} is in chat but not in notes`);
        assert.ok(people.has(String(u.email)), `${String(u.email)} is in chat but not in the calendar`);
      }
      const out = await env.call('search_messages', { folder: 'sent', pageSize: 1 }, { signal });
      assert.ok(out.ok && out.content.includes('robin.okafor@larkspur.example') && !out.content.includes('northwind'), 'sent mail shows Robin as the sender');
    } finally {
      await env.close();
    }
  });
});
