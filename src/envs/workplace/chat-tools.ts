import { z } from 'zod';
import type { JsonObject } from '../../core/index.ts';
import { defineTool, ToolError, type EpisodeContext, type ToolDefinition } from '../define.ts';
import {
  channelById,
  channelLabel,
  chatUsers,
  display,
  ensureDm,
  insertChatMessage,
  newChatId,
  normaliseEmoji,
  requireMessage,
  resolveChannel,
  resolveUser,
  visibleChannels,
  type ChannelRow,
  type ChatMessageRow,
} from './chat-schema.ts';
import { ME } from './people.ts';

const Text = z.string().trim().min(1).max(4000);
const Limit = z.number().int().min(1).max(20).default(10);
/**
 * Search text, matched with LIKE: SQLite refuses patterns over 50,000 bytes and expressions nested
 * over 1,000 deep (one per word), both crashes rather than answers. Mail searches have the same bound.
 */
const MAX_SEARCH_CHARS = 1_000;

function encodeCursor(scope: string, offset: number): string {
  return Buffer.from(`${scope}|${offset}`).toString('base64url');
}

function decodeCursor(scope: string, cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // The offset follows the last bar: a search's scope holds its query, which may have bars of its own.
  const bar = text.lastIndexOf('|');
  const seen = text.slice(0, Math.max(bar, 0));
  const n = bar < 0 ? NaN : Number(text.slice(bar + 1));
  // A forged offset past 2^53 is a float, which SQLite refuses as an OFFSET.
  if (seen !== scope || !Number.isSafeInteger(n) || n < 0) throw new ToolError(`cursor "${cursor}" does not belong to this listing; pass next_cursor from the previous page of the same call, or omit it`);
  return n;
}

function reactionsOf(ctx: EpisodeContext, messageId: string): JsonObject[] {
  const rows = ctx.db.prepare('SELECT r.emoji AS emoji, u.handle AS handle FROM chat_reactions r JOIN chat_users u ON u.id = r.user_id WHERE r.message_id = ? ORDER BY r.created_at, u.handle').all(messageId) as { emoji: string; handle: string }[];
  const by = new Map<string, string[]>();
  for (const r of rows) by.set(r.emoji, [...(by.get(r.emoji) ?? []), `@${r.handle}`]);
  return [...by].map(([emoji, who]) => ({ emoji, count: who.length, by: who }));
}

function view(ctx: EpisodeContext, row: ChatMessageRow, options: { channel?: boolean } = {}): JsonObject {
  const out: JsonObject = { id: row.id };
  if (options.channel) {
    const channel = channelById(ctx.db, row.channel_id);
    out.channel = channel ? channelLabel(channel) : row.channel_id;
  }
  out.author = display(ctx.db, row.author_id);
  out.posted_at = row.posted_at;
  out.text = row.text;
  if (row.thread_id) out.in_thread_of = row.thread_id;
  else {
    const replies = ctx.db.prepare('SELECT COUNT(*) AS n, MAX(posted_at) AS last FROM chat_messages WHERE thread_id = ?').get(row.id) as { n: number; last: string | null };
    if (replies.n > 0) {
      out.replies = replies.n;
      out.last_reply_at = replies.last;
    }
  }
  const reactions = reactionsOf(ctx, row.id);
  if (reactions.length > 0) out.reactions = reactions;
  return out;
}

export const list_channels = defineTool({
  description: 'List the channels you can see (public ones, private ones you are in) and your direct-message conversations, with topics and latest activity.',
  input: z.object({}),
  run: (_input, ctx) => {
    const { db } = ctx;
    const latest = db.prepare('SELECT MAX(posted_at) AS at, COUNT(*) AS n FROM chat_messages WHERE channel_id = ?');
    const members = db.prepare('SELECT COUNT(*) AS n, SUM(user_id = ?) AS me FROM chat_members WHERE channel_id = ?');
    const rows = visibleChannels(db);
    const describe = (c: ChannelRow): JsonObject => {
      const l = latest.get(c.id) as { at: string | null; n: number };
      const m = members.get(ME.id, c.id) as { n: number; me: number | null };
      return c.kind === 'dm'
        ? { channel: c.name, with: display(db, (db.prepare('SELECT user_id FROM chat_members WHERE channel_id = ? AND user_id != ?').get(c.id, ME.id) as { user_id: string }).user_id), messages: l.n, last_message_at: l.at }
        : { channel: `#${c.name}`, kind: c.kind, topic: c.topic, members: m.n, joined: (m.me ?? 0) > 0, messages: l.n, last_message_at: l.at };
    };
    return { channels: rows.filter((c) => c.kind !== 'dm').map(describe), direct_messages: rows.filter((c) => c.kind === 'dm').map(describe) };
  },
});

export const read_channel = defineTool({
  description:
    'Read a channel ("#design") or a direct-message conversation ("@priya"): top-level messages newest first, a page at a time (pass next_cursor back as cursor for older ones), with reply counts and reactions. Give thread_id (a top-level message id) to read that thread instead: the message and all its replies, oldest first.',
  input: z.object({
    channel: z.string().min(1).describe('"#name", "name", or "@handle" for a direct-message conversation'),
    thread_id: z.string().optional().describe('read the replies to this top-level message'),
    cursor: z.string().optional(),
    limit: Limit,
  }),
  run: ({ channel, thread_id, cursor, limit }, ctx): JsonObject => {
    const { db } = ctx;
    const row = resolveChannel(db, channel);
    if (thread_id !== undefined) {
      const parent = requireMessage(db, thread_id);
      if (parent.channel_id !== row.id) throw new ToolError(`message ${thread_id} is in ${channelLabel(channelById(db, parent.channel_id)!)}, not ${channelLabel(row)}`);
      if (parent.thread_id) throw new ToolError(`message ${thread_id} is itself a reply in the thread of ${parent.thread_id}; read that thread`);
      const replies = db.prepare('SELECT * FROM chat_messages WHERE thread_id = ? ORDER BY posted_at, id').all(parent.id) as ChatMessageRow[];
      return { channel: channelLabel(row), thread: view(ctx, parent), replies: replies.map((r) => view(ctx, r)) };
    }
    const scope = `read_channel:${row.id}`;
    const offset = decodeCursor(scope, cursor);
    const total = (db.prepare('SELECT COUNT(*) AS n FROM chat_messages WHERE channel_id = ? AND thread_id IS NULL').get(row.id) as { n: number }).n;
    const rows = db.prepare('SELECT * FROM chat_messages WHERE channel_id = ? AND thread_id IS NULL ORDER BY posted_at DESC, id DESC LIMIT ? OFFSET ?').all(row.id, limit, offset) as ChatMessageRow[];
    const next = offset + rows.length;
    return { channel: channelLabel(row), topic: row.topic, total, messages: rows.map((r) => view(ctx, r)), next_cursor: next < total ? encodeCursor(scope, next) : null };
  },
});

export const search_chat = defineTool({
  description:
    'Search chat messages and thread replies you can see, newest first. Every word of `query` must appear in the text or the author\'s name or handle. Narrow with `channel` ("#design" or "@priya") or `from` (a handle). Paginated: pass next_cursor back as cursor.',
  input: z.object({
    query: z.string().trim().min(1).max(MAX_SEARCH_CHARS, `at most ${MAX_SEARCH_CHARS} characters`),
    channel: z.string().optional(),
    from: z.string().optional().describe('only messages by this person (handle, email or full name)'),
    cursor: z.string().optional(),
    limit: Limit,
  }),
  run: ({ query, channel, from, cursor, limit }, ctx) => {
    const { db } = ctx;
    const where: string[] = [];
    const args: string[] = [];
    const visible = visibleChannels(db).map((c) => c.id);
    if (channel !== undefined) {
      where.push('m.channel_id = ?');
      args.push(resolveChannel(db, channel).id);
    } else {
      where.push(`m.channel_id IN (${visible.map(() => '?').join(', ') || "''"})`);
      args.push(...visible);
    }
    if (from !== undefined) {
      where.push('m.author_id = ?');
      args.push(resolveUser(db, from).id);
    }
    for (const term of query.toLowerCase().split(/\s+/)) {
      const like = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // LIKE ignores ASCII case itself (all that lower() would fold).
      where.push(`(m.text LIKE ? ESCAPE '\\' OR u.name LIKE ? ESCAPE '\\' OR u.handle LIKE ? ESCAPE '\\')`);
      args.push(like, like, like);
    }
    const sql = `FROM chat_messages m JOIN chat_users u ON u.id = m.author_id WHERE ${where.join(' AND ')}`;
    const scope = `search_chat:${query}:${channel ?? ''}:${from ?? ''}`;
    const offset = decodeCursor(scope, cursor);
    const total = (db.prepare(`SELECT COUNT(*) AS n ${sql}`).get(...args) as { n: number }).n;
    const rows = db.prepare(`SELECT m.* ${sql} ORDER BY m.posted_at DESC, m.id DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as ChatMessageRow[];
    const next = offset + rows.length;
    return { total, results: rows.map((r) => view(ctx, r, { channel: true })), next_cursor: next < total ? encodeCursor(scope, next) : null };
  },
});

export const list_chat_users = defineTool({
  description: 'The chat directory: everyone\'s name, @handle, email, job title, team and status line. Filter with a fragment of any of them.',
  input: z.object({ query: z.string().optional() }),
  run: ({ query }, { db }) => {
    const needle = query?.trim().toLowerCase() ?? '';
    const users = chatUsers(db).filter((u) => !needle || [u.name, u.handle, u.email, u.title, u.team, u.status].join(' ').toLowerCase().includes(needle));
    return { users: users.map((u) => ({ name: u.name, handle: `@${u.handle}`, email: u.email, title: u.title, team: u.team, ...(u.status ? { status: u.status } : {}), ...(u.id === ME.id ? { you: true } : {}) })) };
  },
});

function post(ctx: EpisodeContext, channel: ChannelRow, text: string, threadId: string | null): JsonObject {
  const id = newChatId(ctx);
  const posted_at = ctx.clock.now().toISOString();
  insertChatMessage(ctx.db, { id, channel_id: channel.id, thread_id: threadId, author_id: ME.id, text, posted_at });
  return { id, channel: channelLabel(channel), ...(threadId ? { in_thread_of: threadId } : {}), posted_at };
}

export const post_message = defineTool({
  description: 'Post a new top-level message in a channel ("#design") as you. Use reply_in_thread to answer a message, send_direct_message to write to one person.',
  input: z.object({ channel: z.string().min(1), text: Text }),
  run: ({ channel, text }, ctx) => post(ctx, resolveChannel(ctx.db, channel), text, null),
});

export const reply_in_thread = defineTool({
  description: 'Reply in the thread of a message (by id). Replying to a reply goes into the same thread.',
  input: z.object({ message_id: z.string().min(1), text: Text }),
  run: ({ message_id, text }, ctx) => {
    const parent = requireMessage(ctx.db, message_id);
    return post(ctx, channelById(ctx.db, parent.channel_id)!, text, parent.thread_id ?? parent.id);
  },
});

export const add_reaction = defineTool({
  description: 'React to a message with an emoji name, e.g. "white_check_mark", "eyes", "thumbsup".',
  input: z.object({ message_id: z.string().min(1), emoji: z.string().trim().min(1).max(40) }),
  run: ({ message_id, emoji }, ctx) => {
    const message = requireMessage(ctx.db, message_id);
    const name = normaliseEmoji(emoji);
    if (!/^[a-z0-9_+-]+$/.test(name)) throw new ToolError(`"${emoji}" is not an emoji name; use names like thumbsup, eyes or white_check_mark`);
    const done = ctx.db.prepare('INSERT OR IGNORE INTO chat_reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)').run(message.id, ME.id, name, ctx.clock.now().toISOString());
    if (done.changes === 0) throw new ToolError(`you already reacted :${name}: to ${message.id}`);
    return { message_id: message.id, emoji: name };
  },
});

export const send_direct_message = defineTool({
  description: 'Send a direct message to one person (handle like "@priya", email or full name); starts the conversation if there is none.',
  input: z.object({ to: z.string().min(1), text: Text }),
  run: ({ to, text }, ctx) => {
    const user = resolveUser(ctx.db, to);
    if (user.id === ME.id) throw new ToolError('that is you; pick someone else');
    return post(ctx, ensureDm(ctx.db, user, ctx.clock.now().toISOString()), text, null);
  },
});

export const chatTools: Record<string, ToolDefinition> = {
  list_channels,
  read_channel,
  search_chat,
  list_chat_users,
  post_message,
  reply_in_thread,
  add_reaction,
  send_direct_message,
};
