import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment, JsonObject } from '../../core/index.ts';
import { episode, signal, toolTask } from './test-support.ts';

const fixtures = {
  chat: {
    background: false,
    channels: [{ name: 'launch', topic: 'Launch room', members: ['priya', 'hana.k'] }, { name: 'secret', kind: 'private', members: ['priya'], joined: false }],
    messages: [
      { id: 'cm_1001', channel: 'launch', author: 'priya', text: 'Launch checklist is ready for review.', minutesAgo: 120 },
      { id: 'cm_1002', channel: 'launch', author: 'hana.k', text: 'Design sign-off done.', minutesAgo: 60, reactions: [{ emoji: 'tada', by: ['priya'] }] },
      { id: 'cm_1003', channel: 'launch', author: 'priya', text: 'Thanks Hana!', thread: 'cm_1002', minutesAgo: 50 },
      { id: 'cm_1004', channel: '@priya', author: 'priya', text: 'Can you check the launch date?', minutesAgo: 30 },
      { id: 'cm_1005', channel: 'secret', author: 'priya', text: 'Launch date is secret.', minutesAgo: 10 },
    ],
  },
} as unknown as JsonObject;

async function call(env: Environment, tool: string, args: JsonObject): Promise<JsonObject> {
  const out = await env.call(tool, args, { signal });
  if (!out.ok) throw new Error(`${tool}: ${out.error}`);
  return JSON.parse(out.content) as JsonObject;
}

async function error(env: Environment, tool: string, args: JsonObject): Promise<string> {
  const out = await env.call(tool, args, { signal });
  assert.equal(out.ok, false, `${tool} should fail`);
  return out.ok ? '' : out.error;
}

describe('chat tools', () => {
  it('lists channels I can see and my DMs, hiding private channels I am not in', async () => {
    const env = await episode(toolTask(fixtures));
    const out = await call(env, 'list_channels', {});
    const names = (out.channels as JsonObject[]).map((c) => c.channel);
    assert.ok(names.includes('#launch') && names.includes('#general') && names.includes('#leads'));
    assert.ok(!names.includes('#secret') && !names.includes('#people-team'));
    assert.deepEqual((out.direct_messages as JsonObject[]).map((d) => d.channel), ['@priya']);
    assert.match(await error(env, 'read_channel', { channel: '#secret' }), /no channel "#secret"/);
    assert.match(await error(env, 'read_thread', { messageId: 'cm_1005' }), /no message/);
    await env.close();
  });

  it('reads a channel newest first in pages, and a thread oldest first', async () => {
    const env = await episode(toolTask(fixtures));
    const page1 = await call(env, 'read_channel', { channel: 'launch', limit: 1 });
    assert.equal(page1.total, 2);
    const first = (page1.messages as JsonObject[])[0]!;
    assert.equal(first.id, 'cm_1002');
    assert.equal(first.replies, 1);
    assert.deepEqual(first.reactions, [{ emoji: 'tada', count: 1, by: ['@priya'] }]);
    const page2 = await call(env, 'read_channel', { channel: '#launch', limit: 1, cursor: page1.next_cursor as string });
    assert.equal((page2.messages as JsonObject[])[0]!.id, 'cm_1001');
    assert.equal(page2.next_cursor, null);
    assert.match(await error(env, 'read_channel', { channel: '#general', cursor: page1.next_cursor as string }), /does not belong/);
    const thread = await call(env, 'read_channel', { channel: '#launch', thread_id: 'cm_1002' });
    assert.deepEqual((thread.replies as JsonObject[]).map((r) => r.id), ['cm_1003']);
    await env.close();
  });

  it('searches text and authors across visible channels and DMs, never private ones I am not in', async () => {
    const env = await episode(toolTask(fixtures));
    const out = await call(env, 'search_chat', { query: 'launch date' });
    assert.deepEqual((out.results as JsonObject[]).map((r) => [r.id, r.channel]), [['cm_1004', '@priya']]);
    const byHana = await call(env, 'search_chat', { query: 'sign-off', from: '@hana.k' });
    assert.equal(byHana.total, 1);
    await env.close();
  });

  it('answers hostile search text and forged cursors with tool errors, and pages a query that holds a bar', async () => {
    const env = await episode(toolTask(fixtures));
    const long = await env.call('search_chat', { query: 'x'.repeat(50_001) }, { signal });
    assert.equal(long.ok ? '' : long.kind, 'invalid_arguments');
    assert.match(long.ok ? '' : long.error, /query: at most 1000 characters/);
    // The most words the limit allows, each its own LIKE.
    assert.equal((await call(env, 'search_chat', { query: 'zq '.repeat(333).trim() })).total, 0);
    const forged = (scope: string, offset: string) => Buffer.from(`${scope}|${offset}`).toString('base64url');
    for (const [tool, args, scope] of [
      ['read_channel', { channel: '#launch' }, 'read_channel:launch'],
      ['search_chat', { query: 'launch' }, 'search_chat:launch::'],
    ] as const) {
      const out = await env.call(tool, { ...args, cursor: forged(scope, '1e20') }, { signal });
      assert.equal(out.ok ? '' : out.kind, 'tool_error', `${tool}: ${out.ok ? 'accepted' : out.error}`);
      assert.equal((await call(env, tool, { ...args, cursor: forged(scope, '1') })).total, 2, `${tool}: the forged scope is the real one`);
    }
    await call(env, 'post_message', { channel: '#launch', text: 'Options: a|b first.' });
    await call(env, 'post_message', { channel: '#launch', text: 'Options: a|b second.' });
    const page1 = await call(env, 'search_chat', { query: 'a|b', limit: 1 });
    const page2 = await call(env, 'search_chat', { query: 'a|b', limit: 1, cursor: page1.next_cursor as string });
    assert.deepEqual([...(page1.results as JsonObject[]), ...(page2.results as JsonObject[])].map((r) => r.text), ['Options: a|b second.', 'Options: a|b first.']);
    await env.close();
  });

  it('posts, replies in threads, reacts and sends DMs as Robin, refusing ambiguous people and duplicates', async () => {
    const env = await episode(toolTask(fixtures));
    const posted = await call(env, 'post_message', { channel: '#launch', text: 'Ship it.' });
    assert.equal(posted.channel, '#launch');
    const reply = await call(env, 'reply_in_thread', { message_id: 'cm_1003', text: 'Agreed.' });
    assert.equal(reply.in_thread_of, 'cm_1002');
    await call(env, 'add_reaction', { message_id: ':cm_1001:'.slice(1, -1), emoji: ':white_check_mark:' });
    assert.match(await error(env, 'add_reaction', { message_id: 'cm_1001', emoji: 'white_check_mark' }), /already reacted/);
    assert.match(await error(env, 'send_direct_message', { to: 'Sam', text: 'hi' }), /could be several people: .*Sam Castellano.*Sam Whitfield/);
    assert.match(await error(env, 'send_direct_message', { to: 'Jonah Pierce Jr', text: 'hi' }), /no chat user/);
    assert.match(await error(env, 'send_direct_message', { to: 'Jon', text: 'hi' }), /could be several people: Jonah Pierce .*Jonas Peirce/);
    assert.equal((await call(env, 'send_direct_message', { to: 'Ingrid', text: 'hi' })).channel, '@ingrid');
    const dm = await call(env, 'send_direct_message', { to: 'sam.whitfield@larkspur.example', text: 'hi' });
    assert.equal(dm.channel, '@sam.w');
    const users = await call(env, 'list_chat_users', { query: 'security' });
    assert.deepEqual((users.users as JsonObject[]).map((u) => u.handle), ['@sam.w']);
    await env.close();
  });

  it('labels every tool with its app and keeps one submit', async () => {
    const env = await episode(toolTask(fixtures));
    const tools = env.tools();
    assert.equal(tools.filter((t) => t.name === 'submit').length, 1);
    assert.ok(tools.some((t) => t.name === 'notes_search') && !tools.some((t) => t.name === 'search'));
    // ask_user talks to the person, not an app.
    for (const t of tools.filter((t) => t.name !== 'submit' && t.name !== 'ask_user')) assert.match(t.description, /^(Mail|Notes|Calendar|Chat): /, t.name);
    const send = tools.find((t) => t.name === 'send_message')!;
    assert.ok(!send.description.includes('northwind'), send.description);
    assert.match(await error(env, 'get_page', { page_id: 'nope' }), /use notes_search/);
    await env.close();
  });
});
