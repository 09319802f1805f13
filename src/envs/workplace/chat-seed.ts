import type { Rng } from '../../core/index.ts';
import type { EpisodeContext } from '../define.ts';
import { ensureDm, insertChatMessage, newChatId, normaliseEmoji, reserveChatIds, seedUsers, type ChatFixtures, type ChatMessageFixture, type ChatUserRow } from './chat-schema.ts';
import { COLLEAGUES, ME } from './people.ts';

/** Channels every seed has. Task fixtures add their own beside these. */
export const BASE_CHANNELS = [
  { name: 'general', kind: 'public', topic: 'Company-wide news and announcements', members: 'all', joined: true },
  { name: 'product', kind: 'public', topic: 'Product team: roadmap, specs, launches', members: ['u-ingrid', 'u-priya', 'u-hana', 'u-samira', 'u-lucia', 'u-devika', 'u-jonah'], joined: true },
  { name: 'engineering', kind: 'public', topic: 'Builds, deploys, reviews', members: ['u-priya', 'u-marcus', 'u-tomas', 'u-chen', 'u-kofi', 'u-sam-w'], joined: true },
  { name: 'design', kind: 'public', topic: 'Crits, Figma links, research', members: ['u-hana', 'u-samira', 'u-lucia', 'u-ingrid'], joined: true },
  { name: 'support', kind: 'public', topic: 'Escalations and customer questions', members: ['u-jonah', 'u-sam-c', 'u-tomas', 'u-devika'], joined: true },
  { name: 'finance', kind: 'public', topic: 'Budgets, invoices, expenses', members: ['u-elena', 'u-ana', 'u-oliver'], joined: false },
  { name: 'random', kind: 'public', topic: 'Anything goes', members: 'all', joined: true },
  { name: 'leads', kind: 'private', topic: 'Team leads only', members: ['u-ingrid', 'u-priya', 'u-hana', 'u-oliver', 'u-jonah', 'u-elena'], joined: true },
  { name: 'people-team', kind: 'private', topic: 'People team (confidential)', members: ['u-aisha', 'u-ingrid'], joined: false },
] as const;

const CHATTER: Record<string, readonly string[]> = {
  general: [
    'Reminder: the {floor} floor kitchen is being deep-cleaned {day}, use the other one.',
    'Welcome to the new folks joining this week! Say hi in #random.',
    'The all-hands recording from last month is in the wiki now.',
    'Fire drill {day} at 11:00 — please follow the wardens.',
    'Parking level {floor} is closed for repainting until further notice.',
  ],
  product: [
    'Posted the notes from the {project} discovery call in the workspace.',
    'Does anyone have the latest NPS export? The one in the drive is from January.',
    'Heads-up: the {project} spec has a new open questions section.',
    'Can we timebox the {project} debate to 20 minutes in the sync?',
    'Support saw three tickets about {project} this morning, nothing urgent.',
  ],
  engineering: [
    'Staging deploy of {project} is green.',
    'PR for the {project} migration is up, reviews welcome.',
    'Flaky test in the checkout suite again — I have muted it and opened a ticket.',
    'CI queue is long this morning; the runners are being resized.',
    'Who owns the {project} alerts? Getting paged for a warning-level thing.',
  ],
  design: [
    'New icon set is in the Figma library (v{n}).',
    'Usability session recordings for {project} are uploaded.',
    'Crit notes: we liked the empty states, less so the onboarding modal.',
    'Anyone free to pair on the {project} settings page layout?',
  ],
  support: [
    'Ticket volume back to normal after the {project} fix.',
    'A customer asked whether {project} exports include archived items. Anyone know?',
    'Macro for password resets updated with the new wording.',
    'Escalation from a trial account about invoices, routed to Finance.',
  ],
  finance: ['Month-end close starts {day}; please get expenses in.', 'Budget owners: Q2 forecasts due next week.', 'New card limits are live.'],
  random: ['Who left the sourdough starter in the fridge?', 'Cat photo thread, go.', 'Recommendations for a quiet café near the office?', 'The {floor} floor plants are thriving.', 'Board games after work {day}?'],
  leads: ['Headcount plan draft is in the leads folder.', 'Please send me your team highlights by {day}.', 'Reminder: calibration notes are due at the end of the month.'],
  'people-team': ['Draft of the new parental leave policy is ready for review.'],
};

const REPLIES = ['Thanks!', 'On it.', '+1', 'Looking now.', 'Makes sense to me.', 'Done.', 'Good call.', 'Can we talk about this in the sync?', 'Noted, thanks for flagging.'];
const EMOJI = ['thumbsup', 'eyes', 'white_check_mark', 'tada', 'pray', 'heart'];
const PROJECTS = ['Billing v2', 'Search revamp', 'Mobile offline', 'Data export', 'SSO', 'Onboarding checklist', 'Usage dashboard'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];

const MINUTE = 60_000;

function fill(template: string, rng: Rng): string {
  return template
    .replace('{project}', rng.pick(PROJECTS))
    .replace('{day}', rng.pick(DAYS))
    .replace('{floor}', String(rng.int(2, 6)))
    .replace('{n}', String(rng.int(2, 9)));
}

function memberIds(members: 'all' | readonly string[], ctx: EpisodeContext): string[] {
  if (members === 'all') return COLLEAGUES.map((c) => c.id);
  return members.map((m) => userId(ctx, m, 'channels.members'));
}

function userId(ctx: EpisodeContext, who: string, where: string): string {
  const needle = who.replace(/^@/, '').toLowerCase();
  const row = ctx.db.prepare('SELECT id FROM chat_users WHERE handle = ? OR email = ? OR id = ?').get(needle, needle, needle) as { id: string } | undefined;
  if (!row) throw new Error(`chat ${where}: no user "${who}" (use a handle, email or user id)`);
  return row.id;
}

function addChannel(ctx: EpisodeContext, channel: { name: string; kind: string; topic: string; members: 'all' | readonly string[]; joined: boolean }, at: string): void {
  const { db } = ctx;
  if (db.prepare('SELECT 1 FROM chat_channels WHERE id = ?').get(channel.name)) throw new Error(`chat.channels: channel "${channel.name}" exists already`);
  db.prepare('INSERT INTO chat_channels (id, name, kind, topic, created_at) VALUES (?, ?, ?, ?, ?)').run(channel.name, channel.name, channel.kind, channel.topic, at);
  const ids = new Set(memberIds(channel.members, ctx));
  if (channel.joined) ids.add(ME.id);
  else ids.delete(ME.id);
  const insert = db.prepare('INSERT INTO chat_members (channel_id, user_id) VALUES (?, ?)');
  for (const id of [...ids].sort()) insert.run(channel.name, id);
}

/** Posts one fixture message (seeding, or a colleague posting mid-episode through a world event). */
export function insertChatFixture(ctx: EpisodeContext, m: ChatMessageFixture, where: string): void {
  const { db } = ctx;
  const author = userId(ctx, m.author, `${where}.author`);
  let channelId: string;
  if (m.channel.startsWith('@')) {
    const other = db.prepare('SELECT * FROM chat_users WHERE id = ?').get(userId(ctx, m.channel, `${where}.channel`)) as ChatUserRow;
    if (author !== ME.id && author !== other.id) throw new Error(`${where}: a DM with @${other.handle} must be written by them or by me`);
    channelId = ensureDm(db, other, ctx.clock.now().toISOString()).id;
  } else {
    channelId = m.channel.replace(/^#/, '');
    if (!db.prepare('SELECT 1 FROM chat_channels WHERE id = ?').get(channelId)) throw new Error(`${where}.channel: no channel "${m.channel}"`);
  }
  if (m.thread) {
    const parent = db.prepare('SELECT channel_id, thread_id FROM chat_messages WHERE id = ?').get(m.thread) as { channel_id: string; thread_id: string | null } | undefined;
    if (!parent || parent.channel_id !== channelId || parent.thread_id) throw new Error(`${where}.thread: ${m.thread} is not an earlier top-level message in ${m.channel}`);
  }
  if (db.prepare('SELECT 1 FROM chat_messages WHERE id = ?').get(m.id)) throw new Error(`${where}.id: duplicate chat message id ${m.id}`);
  const nowMs = ctx.clock.now().getTime();
  const postedAt = m.at ? new Date(m.at).toISOString() : new Date(nowMs - (m.minutesAgo ?? 0) * MINUTE).toISOString();
  insertChatMessage(db, { id: m.id, channel_id: channelId, thread_id: m.thread ?? null, author_id: author, text: m.text, posted_at: postedAt });
  for (const r of m.reactions) {
    for (const who of r.by) {
      db.prepare('INSERT OR IGNORE INTO chat_reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)').run(m.id, userId(ctx, who, `${where}.reactions`), normaliseEmoji(r.emoji), postedAt);
    }
  }
}

/** Chat message ids that scheduled `chat_message_posted` events will use. */
function scheduledChatIds(ctx: EpisodeContext): string[] {
  const schedule = ctx.task.initialState.schedule;
  if (!Array.isArray(schedule)) return [];
  return schedule.flatMap((e) => {
    const params = e && typeof e === 'object' && !Array.isArray(e) ? e.params : undefined;
    const id = params && typeof params === 'object' && !Array.isArray(params) ? params.id : undefined;
    return typeof id === 'string' && id.startsWith('cm_') ? [id] : [];
  });
}

function seedChatter(ctx: EpisodeContext, range: { min: number; max: number }): void {
  const { db } = ctx;
  const rng = ctx.rng.fork('chatter');
  const nowMs = ctx.clock.now().getTime();
  const channels = BASE_CHANNELS.map((c) => ({ id: c.name, members: (db.prepare('SELECT user_id FROM chat_members WHERE channel_id = ? AND user_id != ?').all(c.name, ME.id) as { user_id: string }[]).map((r) => r.user_id) })).filter((c) => c.members.length > 0);
  const target = rng.int(range.min, range.max + 1);
  for (let written = 0; written < target; ) {
    const channel = rng.pick(channels);
    const author = rng.pick(channel.members);
    // Office hours (07:00–18:00 UTC) on one of the last nine days, never in the future.
    const day = Math.floor(nowMs / (24 * 60 * MINUTE)) - rng.int(0, 9);
    const postedMs = Math.min(nowMs - 30 * MINUTE, (day * 24 * 60 + rng.int(7 * 60, 18 * 60)) * MINUTE);
    const id = newChatId(ctx);
    insertChatMessage(db, { id, channel_id: channel.id, thread_id: null, author_id: author, text: fill(rng.pick(CHATTER[channel.id] ?? CHATTER.random!), rng), posted_at: new Date(postedMs).toISOString() });
    written++;
    if (rng.next() < 0.3) {
      for (let r = rng.int(1, 4), at = postedMs; r > 0 && written < target; r--, written++) {
        at += rng.int(2, 90) * MINUTE;
        if (at >= nowMs) break;
        insertChatMessage(db, { id: newChatId(ctx), channel_id: channel.id, thread_id: id, author_id: rng.pick(channel.members), text: rng.pick(REPLIES), posted_at: new Date(at).toISOString() });
      }
    }
    if (rng.next() < 0.35) {
      for (const who of rng.shuffle(channel.members).slice(0, rng.int(1, 4))) {
        db.prepare('INSERT OR IGNORE INTO chat_reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)').run(id, who, rng.pick(EMOJI), new Date(postedMs).toISOString());
      }
    }
  }
}

/** What seedChat keeps beside the database (ids its fixtures and scheduled messages will take), rebuilt on a copy of its world. */
export function restoreChatBeside(ctx: EpisodeContext, fixtures: ChatFixtures): void {
  reserveChatIds(ctx.db, [...fixtures.messages.map((m) => m.id), ...scheduledChatIds(ctx)]);
}

/** Users, base channels, the task's channels and messages (stable ids), then seeded chatter. */
export function seedChat(ctx: EpisodeContext, fixtures: ChatFixtures): void {
  const at = new Date(ctx.clock.now().getTime() - 400 * 24 * 60 * MINUTE).toISOString();
  seedUsers(ctx.db, fixtures.statuses);
  for (const c of BASE_CHANNELS) addChannel(ctx, c, at);
  for (const c of fixtures.channels) addChannel(ctx, c, at);
  restoreChatBeside(ctx, fixtures);
  fixtures.messages.forEach((m, i) => insertChatFixture(ctx, m, `initialState.chat.messages.${i}`));
  if (fixtures.background !== false) seedChatter(ctx, fixtures.background ?? { min: 40, max: 90 });
}

