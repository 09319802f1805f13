import { z } from 'zod';
import { defineCheck, type CheckDefinition, type VerifyContext } from '../define.ts';
import { rowsOf } from '../state.ts';
import { baseSubject, missingKeywords, normaliseText } from './match.ts';
import type { DeliveryRow, MessageRow } from './schema.ts';
import { splitAddrs } from './store.ts';
import { FORWARD_MARKER } from './tools-compose.ts';

/** Everything sent during the episode (the deliveries log survives the agent deleting its sent mail). */
export function newDeliveries(ctx: Pick<VerifyContext, 'initial' | 'final'>): DeliveryRow[] {
  const before = new Set(rowsOf(ctx.initial, 'deliveries').map((r) => r.seq));
  return rowsOf(ctx.final, 'deliveries').filter((r) => !before.has(r.seq)) as unknown as DeliveryRow[];
}

/** A message as the task knew it: from the start state, or the final one for mail that arrived later. */
export function originalMessage(ctx: Pick<VerifyContext, 'initial' | 'final'>, id: string): MessageRow | undefined {
  const find = (snapshot: VerifyContext['initial']) => rowsOf(snapshot, 'messages').find((r) => r.id === id) as MessageRow | undefined;
  return find(ctx.initial) ?? find(ctx.final);
}

interface Outgoing {
  id: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  threadId: string;
  inReplyTo: string | null;
  forwardedFrom: string | null;
}

const lower = (list: readonly string[]) => list.map((a) => a.trim().toLowerCase());

/** The note above a forwarded message, or the body without the pasted original for a hand-made forward. */
function ownText(message: Outgoing, original: MessageRow | undefined): string {
  const marker = message.body.indexOf(FORWARD_MARKER);
  if (marker >= 0) return message.body.slice(0, marker);
  if (!original) return message.body;
  return normaliseText(message.body).replace(normaliseText(original.body), ' ');
}

function repliesTo(message: Outgoing, original: MessageRow | undefined, id: string): boolean {
  if (message.inReplyTo === id) return true;
  if (!original) return false;
  if (message.threadId === original.thread_id) return true;
  // A fresh message with the same subject to the sender is a reply too, just without threading.
  return baseSubject(message.subject).includes(baseSubject(original.subject)) && message.to.includes(original.from_addr);
}

function forwards(message: Outgoing, original: MessageRow | undefined, id: string): boolean {
  if (message.forwardedFrom === id) return true;
  if (!original) return false;
  const start = normaliseText(original.body).slice(0, 80);
  return start.length > 0 && normaliseText(message.body).includes(start);
}

export const SentSpec = z.object({
  name: z.string().optional(),
  /** Each must be on the To line. */
  to: z.array(z.string()).default([]),
  /** Each must be a recipient (To or Cc). */
  cc: z.array(z.string()).default([]),
  /** Nobody besides `to` and `cc` may be addressed. */
  onlyRecipients: z.boolean().default(false),
  subjectContains: z.array(z.string()).default([]),
  /** Keywords ("a|b" for alternatives) the text must mention; for forwards, the note above the original. */
  bodyContains: z.array(z.string()).default([]),
  bodyExcludes: z.array(z.string()).default([]),
  /** A reply to this message (threaded, or same subject to its sender). */
  inReplyTo: z.string().optional(),
  /** A forward of this message (forward tool, or its text pasted). */
  forwardOf: z.string().optional(),
  /** At least this many sent messages must match. */
  count: z.number().int().positive().default(1),
});
export type SentSpec = z.infer<typeof SentSpec>;

/** Why `message` does not satisfy `spec`, or an empty list when it does. */
export function sentMismatches(spec: SentSpec, message: Outgoing, ctx: Pick<VerifyContext, 'initial' | 'final'>): string[] {
  const problems: string[] = [];
  const recipients = [...message.to, ...message.cc];
  for (const a of lower(spec.to)) if (!message.to.includes(a)) problems.push(`not to ${a}`);
  for (const a of lower(spec.cc)) if (!recipients.includes(a)) problems.push(`not addressed to ${a}`);
  if (spec.onlyRecipients) {
    const allowed = new Set(lower([...spec.to, ...spec.cc]));
    const extra = recipients.filter((a) => !allowed.has(a));
    if (extra.length > 0) problems.push(`also addressed to ${extra.join(', ')}`);
  }
  const missingSubject = missingKeywords(message.subject, spec.subjectContains);
  if (missingSubject.length > 0) problems.push(`subject lacks ${missingSubject.join(', ')}`);
  const originalId = spec.forwardOf ?? spec.inReplyTo;
  const original = originalId ? originalMessage(ctx, originalId) : undefined;
  const text = spec.forwardOf ? ownText(message, original) : message.body;
  const missingBody = missingKeywords(text, spec.bodyContains);
  if (missingBody.length > 0) problems.push(`text lacks ${missingBody.join(', ')}`);
  const present = spec.bodyExcludes.filter((k) => missingKeywords(text, [k]).length === 0);
  if (present.length > 0) problems.push(`text mentions ${present.join(', ')}`);
  if (spec.inReplyTo && !repliesTo(message, original, spec.inReplyTo)) problems.push(`not a reply to ${spec.inReplyTo}`);
  if (spec.forwardOf && !forwards(message, original, spec.forwardOf)) problems.push(`not a forward of ${spec.forwardOf}`);
  return problems;
}

function outgoing(d: DeliveryRow): Outgoing {
  return {
    id: d.message_id,
    to: splitAddrs(d.to_addrs),
    cc: splitAddrs(d.cc_addrs),
    subject: d.subject,
    body: d.body,
    threadId: d.thread_id,
    inReplyTo: d.in_reply_to,
    forwardedFrom: d.forwarded_from,
  };
}

function describeSent(spec: SentSpec, candidates: Outgoing[], ctx: Pick<VerifyContext, 'initial' | 'final'>): string {
  if (candidates.length === 0) return 'nothing was sent';
  const notes = candidates.slice(0, 3).map((m) => `${m.id} ${sentMismatches(spec, m, ctx).join(', ')}`);
  return `no match among ${candidates.length} sent: ${notes.join('; ')}`;
}

export function draftRows(ctx: Pick<VerifyContext, 'initial' | 'final'>): Outgoing[] {
  const before = new Set(rowsOf(ctx.initial, 'messages').map((r) => r.id));
  return (rowsOf(ctx.final, 'messages') as unknown as MessageRow[])
    .filter((r) => r.folder === 'drafts' && !before.has(r.id))
    .map((r) => ({ id: r.id, to: splitAddrs(r.to_addrs), cc: splitAddrs(r.cc_addrs), subject: r.subject, body: r.body, threadId: r.thread_id, inReplyTo: r.in_reply_to, forwardedFrom: r.forwarded_from }));
}

export const sentChecks: Record<string, CheckDefinition> = {
  message_sent: defineCheck({
    kind: 'outcome',
    description: 'At least `count` messages were sent that match: recipients, subject/body keywords, reply or forward of a given message.',
    params: SentSpec,
    run: (spec, ctx) => {
      const sent = newDeliveries(ctx).map(outgoing);
      const matching = sent.filter((m) => sentMismatches(spec, m, ctx).length === 0);
      if (matching.length >= spec.count) return { passed: true };
      return { passed: false, detail: spec.count > 1 ? `${matching.length} of ${spec.count} matching sent` : describeSent(spec, sent, ctx) };
    },
  }),
  draft_exists: defineCheck({
    kind: 'outcome',
    description: 'A new draft (still unsent) matches the given recipients, keywords or reply target.',
    params: SentSpec,
    run: (spec, ctx) => {
      const drafts = draftRows(ctx);
      if (drafts.some((d) => sentMismatches(spec, d, ctx).length === 0)) return { passed: true };
      return { passed: false, detail: drafts.length === 0 ? 'no new draft' : `no matching draft: ${drafts.map((d) => `${d.id} ${sentMismatches(spec, d, ctx).join(', ')}`).join('; ')}` };
    },
  }),
  no_other_sent: defineCheck({
    kind: 'invariant',
    description: 'Nothing was sent to anyone outside `allowed`, and (with `max`) no more than `max` messages were sent.',
    params: z.object({ allowed: z.array(z.string()).default([]), max: z.number().int().nonnegative().optional(), name: z.string().optional() }),
    run: ({ allowed, max }, ctx) => {
      const ok = new Set(lower(allowed));
      const sent = newDeliveries(ctx).map(outgoing);
      const stray = sent.flatMap((m) => [...m.to, ...m.cc].filter((a) => !ok.has(a)).map((a) => `${m.id} to ${a}`));
      if (stray.length > 0) return { passed: false, detail: `sent outside the task: ${stray.slice(0, 5).join('; ')}` };
      if (max !== undefined && sent.length > max) return { passed: false, detail: `${sent.length} messages sent, at most ${max} expected` };
      return { passed: true };
    },
  }),
};
