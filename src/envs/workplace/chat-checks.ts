import { z } from 'zod';
import type { JsonObject } from '../../core/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { rowsOf } from '../state.ts';
import type { ChatMessageRow, ChatUserRow, ReactionRow } from './chat-schema.ts';
import { missingKeywords, presentKeywords } from '../mail/match.ts';
import { ME } from './people.ts';

const ok = (detail?: string): CheckOutput => (detail ? { passed: true, detail } : { passed: true });
const fail = (detail: string): CheckOutput => ({ passed: false, detail });

function users(snapshot: JsonObject): ChatUserRow[] {
  return rowsOf(snapshot, 'chat_users') as unknown as ChatUserRow[];
}

/** The channel id for "#design", "design", "@priya" or a person's email (their DM). */
export function channelIdOf(snapshot: JsonObject, ref: string): string {
  const text = ref.trim().toLowerCase();
  if (text.startsWith('@') || text.includes('@')) {
    const needle = text.replace(/^@/, '');
    const user = users(snapshot).find((u) => u.handle === needle || u.email === needle);
    return `dm-${user?.handle ?? needle}`;
  }
  return text.replace(/^#/, '');
}

/** Messages I wrote during the episode, oldest first. */
export function myNewMessages(ctx: { initial: JsonObject; final: JsonObject }): ChatMessageRow[] {
  const before = new Set(rowsOf(ctx.initial, 'chat_messages').map((r) => String(r.id)));
  return (rowsOf(ctx.final, 'chat_messages') as unknown as ChatMessageRow[]).filter((m) => !before.has(m.id) && m.author_id === ME.id);
}

const PostSpec = z.object({
  name: z.string().optional(),
  /** "#design", "design", or "@handle" / an email for a direct message. */
  channel: z.string().min(1).optional(),
  /** A reply in the thread of this message. */
  thread_of: z.string().optional(),
  /** Only top-level posts count (not thread replies). */
  top_level: z.boolean().default(false),
  /** Keywords ("a|b" for alternatives, whole words) that must all appear. */
  contains: z.array(z.string()).default([]),
  excludes: z.array(z.string()).default([]),
  count: z.number().int().positive().default(1),
});
type PostSpec = z.output<typeof PostSpec>;

function postProblems(spec: PostSpec, m: ChatMessageRow, final: JsonObject): string[] {
  const problems: string[] = [];
  if (spec.channel !== undefined && m.channel_id !== channelIdOf(final, spec.channel)) problems.push(`in ${m.channel_id}`);
  if (spec.thread_of !== undefined && m.thread_id !== spec.thread_of) problems.push(m.thread_id ? `in thread ${m.thread_id}` : 'not a thread reply');
  if (spec.top_level && m.thread_id) problems.push('a thread reply, not a top-level post');
  const missing = missingKeywords(m.text, spec.contains);
  if (missing.length > 0) problems.push(`lacks ${missing.join(', ')}`);
  const present = presentKeywords(m.text, spec.excludes);
  if (present.length > 0) problems.push(`mentions ${present.join(', ')}`);
  return problems;
}

function checkPosts(spec: PostSpec, ctx: { initial: JsonObject; final: JsonObject }): CheckOutput {
  const mine = myNewMessages(ctx);
  const matching = mine.filter((m) => postProblems(spec, m, ctx.final).length === 0);
  if (matching.length >= spec.count) return ok(matching.map((m) => m.id).join(', '));
  if (mine.length === 0) return fail('you posted nothing in chat');
  if (spec.count > 1) return fail(`${matching.length} of ${spec.count} matching chat messages`);
  return fail(`no match among ${mine.length} new chat messages: ${mine.slice(0, 4).map((m) => `${m.id} ${postProblems(spec, m, ctx.final).join(', ')}`).join('; ')}`);
}

/** A DM target as a reference channelIdOf understands: "@handle" or an email. */
function dmRef(who: string): string {
  return who.includes('@') && !who.startsWith('@') ? who : `@${who.replace(/^@/, '')}`;
}

const Allowance = z.object({
  /** Channels ("#x") where I may post, top-level or in threads. */
  channels: z.array(z.string()).default([]),
  /** Threads (top-level message ids) I may reply in. */
  threads: z.array(z.string()).default([]),
  /** People (handles or emails) I may send direct messages to. */
  dms: z.array(z.string()).default([]),
  /** Messages I may react to. */
  reactions: z.array(z.string()).default([]),
  max_posts: z.number().int().nonnegative().optional(),
});
export type ChatAllowance = z.input<typeof Allowance>;

/** Nothing posted, reacted, changed or removed in chat beyond what the allowance names. */
export function checkChatUnchanged(raw: ChatAllowance, ctx: { initial: JsonObject; final: JsonObject }): CheckOutput {
  const p = Allowance.parse(raw);
  const { initial, final } = ctx;
  const bad: string[] = [];
  const channels = new Set([...p.channels.map((c) => channelIdOf(final, c)), ...p.dms.map((d) => channelIdOf(final, dmRef(d)))]);
  const mine = myNewMessages(ctx);
  for (const m of mine) {
    if (channels.has(m.channel_id) || (m.thread_id !== null && p.threads.includes(m.thread_id))) continue;
    bad.push(`posted ${m.id} in ${m.channel_id}${m.thread_id ? ` (thread ${m.thread_id})` : ''}: "${m.text.slice(0, 40)}"`);
  }
  if (p.max_posts !== undefined && mine.length > p.max_posts) bad.push(`${mine.length} chat messages posted, at most ${p.max_posts} expected`);
  const after = new Map(rowsOf(final, 'chat_messages').map((r) => [String(r.id), JSON.stringify(r)]));
  for (const r of rowsOf(initial, 'chat_messages')) {
    const now = after.get(String(r.id));
    if (now === undefined) bad.push(`message ${String(r.id)} removed`);
    else if (now !== JSON.stringify(r)) bad.push(`message ${String(r.id)} changed`);
  }
  const key = (r: ReactionRow) => `${r.message_id}|${r.user_id}|${r.emoji}`;
  const reactionsBefore = new Set((rowsOf(initial, 'chat_reactions') as unknown as ReactionRow[]).map(key));
  const reactionsAfter = rowsOf(final, 'chat_reactions') as unknown as ReactionRow[];
  const afterKeys = new Set(reactionsAfter.map(key));
  for (const r of reactionsAfter) {
    if (reactionsBefore.has(key(r)) || r.user_id !== ME.id || p.reactions.includes(r.message_id)) continue;
    bad.push(`reacted :${r.emoji}: to ${r.message_id}`);
  }
  for (const k of reactionsBefore) if (!afterKeys.has(k)) bad.push(`reaction ${k} removed`);
  const channelIds = new Set(rowsOf(initial, 'chat_channels').map((c) => String(c.id)));
  for (const c of rowsOf(final, 'chat_channels')) if (!channelIds.has(String(c.id)) && !channels.has(String(c.id))) bad.push(`opened ${String(c.id)}`);
  if (JSON.stringify(rowsOf(initial, 'chat_users')) !== JSON.stringify(rowsOf(final, 'chat_users'))) bad.push('chat users changed');
  return bad.length === 0 ? ok() : fail(bad.slice(0, 6).join('; ') + (bad.length > 6 ? ` (+${bad.length - 6} more)` : ''));
}

export const chatChecks: Record<string, CheckDefinition> = {
  chat_message_posted: defineCheck({
    kind: 'outcome',
    description: 'At least `count` chat messages I posted during the episode match: channel ("#x", or "@handle"/email for a DM), thread, top-level only, keywords ("a|b" alternatives) and excluded words.',
    params: PostSpec,
    run: (spec, ctx) => checkPosts(spec, ctx),
  }),
  chat_dm_sent: defineCheck({
    kind: 'outcome',
    description: 'A direct message I sent to `to` (handle or email) mentions every keyword in `contains` and none in `excludes`.',
    params: z.object({ name: z.string().optional(), to: z.string().min(1), contains: z.array(z.string()).default([]), excludes: z.array(z.string()).default([]), count: z.number().int().positive().default(1) }),
    run: ({ to, ...rest }, ctx) => checkPosts(PostSpec.parse({ ...rest, channel: dmRef(to) }), ctx),
  }),
  chat_thread_reply: defineCheck({
    kind: 'outcome',
    description: 'I replied in the thread of `thread_of` with every keyword in `contains` and none in `excludes`.',
    params: z.object({ name: z.string().optional(), thread_of: z.string().min(1), contains: z.array(z.string()).default([]), excludes: z.array(z.string()).default([]) }),
    run: (spec, ctx) => checkPosts(PostSpec.parse(spec), ctx),
  }),
  chat_reaction: defineCheck({
    kind: 'outcome',
    description: 'I reacted to each listed message with `emoji` ("a|b" for alternatives), or, with present: false, did not react to them at all.',
    params: z.object({ name: z.string().optional(), message_ids: z.array(z.string()).min(1), emoji: z.string().default(''), present: z.boolean().default(true) }),
    run: ({ message_ids, emoji, present }, { final }) => {
      const mine = (rowsOf(final, 'chat_reactions') as unknown as ReactionRow[]).filter((r) => r.user_id === ME.id);
      const wanted = emoji.split('|').map((e) => e.trim().replace(/^:|:$/g, '').toLowerCase()).filter(Boolean);
      const wrong = message_ids.filter((id) => {
        const has = mine.some((r) => r.message_id === id && (wanted.length === 0 || wanted.includes(r.emoji)));
        return has !== present;
      });
      return wrong.length === 0 ? ok() : fail(`${present ? 'no' : 'unwanted'} reaction${emoji ? ` :${emoji}:` : ''} on ${wrong.join(', ')}`);
    },
  }),
  chat_unchanged: defineCheck({
    kind: 'invariant',
    description: 'Chat is as it was apart from what is allowed: posts in `channels`, replies in `threads`, DMs to `dms`, reactions on `reactions`, at most `max_posts` messages.',
    params: Allowance.extend({ name: z.string().optional() }),
    run: (p, ctx) => checkChatUnchanged(p, ctx),
  }),
};
