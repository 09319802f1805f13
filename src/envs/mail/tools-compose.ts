import { z } from 'zod';
import { defineTool, ToolError, type EpisodeContext } from '../define.ts';
import { ME, type MessageRow } from './schema.ts';
import { getMessage, insertMessage, isAddress, joinAddrs, newId, normaliseAddress, recordDelivery, splitAddrs } from './store.ts';

export const FORWARD_MARKER = '---------- Forwarded message ----------';

const Address = z.string().refine(isAddress, 'an email address like name@example.com (or "Name <name@example.com>")');
const Recipients = z.array(Address).min(1, 'at least one recipient');

function newOutgoing(ctx: EpisodeContext, fields: Pick<MessageRow, 'thread_id' | 'to_addrs' | 'cc_addrs' | 'subject' | 'body' | 'in_reply_to' | 'forwarded_from'> & { folder: 'sent' | 'drafts' }): MessageRow {
  const row: MessageRow = {
    id: newId(ctx, 'msg'),
    from_addr: ME.email,
    from_name: ME.name,
    sent_at: ctx.clock.now().toISOString(),
    read: 1,
    starred: 0,
    ...fields,
  };
  insertMessage(ctx.db, row);
  return row;
}

function prefixed(prefix: 'Re' | 'Fwd', subject: string): string {
  return new RegExp(`^${prefix}:`, 'i').test(subject.trim()) ? subject : `${prefix}: ${subject}`;
}

function withoutMe(addresses: string[]): string[] {
  return addresses.filter((a) => a !== ME.email);
}

function rejectDraft(row: MessageRow, action: string): void {
  if (row.folder === 'drafts') throw new ToolError(`${row.id} is one of your drafts; you cannot ${action} it (send_draft sends it)`);
}

export const send_message = defineTool({
  description: 'Send a new email from me@northwind.example. One message per call.',
  input: z.object({ to: Recipients, cc: z.array(Address).default([]), subject: z.string().min(1), body: z.string().min(1) }),
  run: ({ to, cc, subject, body }, ctx) => {
    const row = newOutgoing(ctx, { folder: 'sent', thread_id: newId(ctx, 'thr'), to_addrs: joinAddrs(to), cc_addrs: joinAddrs(cc), subject, body, in_reply_to: null, forwarded_from: null });
    recordDelivery(ctx.db, 'send', row);
    return { content: `Sent ${row.id} to ${[row.to_addrs, row.cc_addrs].filter(Boolean).join(', ')}.`, data: { id: row.id, threadId: row.thread_id } };
  },
});

export const reply = defineTool({
  description: 'Reply to one message, in its thread. `replyAll` also addresses everyone else on it; `cc` adds people.',
  input: z.object({ messageId: z.string().min(1), body: z.string().min(1), replyAll: z.boolean().default(false), cc: z.array(Address).default([]) }),
  run: ({ messageId, body, replyAll, cc }, ctx) => {
    const original = getMessage(ctx.db, messageId);
    rejectDraft(original, 'reply to');
    // Replying to my own message goes to the people I wrote to, as mail clients do.
    const mine = original.from_addr === ME.email;
    const primary = mine ? splitAddrs(original.to_addrs) : [original.from_addr];
    const to = replyAll ? withoutMe([...primary, ...(mine ? [] : splitAddrs(original.to_addrs))]) : primary;
    const ccList = withoutMe([...(replyAll ? splitAddrs(original.cc_addrs) : []), ...cc.map(normaliseAddress)]).filter((a) => !to.includes(a));
    if (to.length === 0) throw new ToolError(`${messageId} has no one to reply to`);
    const row = newOutgoing(ctx, {
      folder: 'sent',
      thread_id: original.thread_id,
      to_addrs: joinAddrs(to),
      cc_addrs: joinAddrs(ccList),
      subject: prefixed('Re', original.subject),
      body,
      in_reply_to: original.id,
      forwarded_from: null,
    });
    recordDelivery(ctx.db, 'reply', row);
    return { content: `Replied with ${row.id} to ${[row.to_addrs, row.cc_addrs].filter(Boolean).join(', ')}.`, data: { id: row.id, threadId: row.thread_id } };
  },
});

export const forward = defineTool({
  description: 'Forward one message (with its full text) to new recipients, with an optional note above it.',
  input: z.object({ messageId: z.string().min(1), to: Recipients, cc: z.array(Address).default([]), note: z.string().default('') }),
  run: ({ messageId, to, cc, note }, ctx) => {
    const original = getMessage(ctx.db, messageId);
    rejectDraft(original, 'forward');
    const quoted = [
      FORWARD_MARKER,
      `From: ${original.from_name} <${original.from_addr}>`,
      `Date: ${original.sent_at}`,
      `Subject: ${original.subject}`,
      `To: ${original.to_addrs}`,
      '',
      original.body,
    ].join('\n');
    const row = newOutgoing(ctx, {
      folder: 'sent',
      thread_id: newId(ctx, 'thr'),
      to_addrs: joinAddrs(to),
      cc_addrs: joinAddrs(cc),
      subject: prefixed('Fwd', original.subject),
      body: note.trim() ? `${note.trim()}\n\n${quoted}` : quoted,
      in_reply_to: null,
      forwarded_from: original.id,
    });
    recordDelivery(ctx.db, 'forward', row);
    return { content: `Forwarded ${original.id} as ${row.id} to ${[row.to_addrs, row.cc_addrs].filter(Boolean).join(', ')}.`, data: { id: row.id } };
  },
});

export const create_draft = defineTool({
  description: 'Save a draft without sending it. `inReplyTo` makes it a draft reply in that message\'s thread.',
  input: z.object({
    to: z.array(Address).default([]),
    cc: z.array(Address).default([]),
    subject: z.string().default(''),
    body: z.string().min(1),
    inReplyTo: z.string().min(1).optional(),
  }),
  run: ({ to, cc, subject, body, inReplyTo }, ctx) => {
    const original = inReplyTo ? getMessage(ctx.db, inReplyTo) : undefined;
    const row = newOutgoing(ctx, {
      folder: 'drafts',
      thread_id: original?.thread_id ?? newId(ctx, 'thr'),
      to_addrs: joinAddrs(to.length > 0 || !original ? to : [original.from_addr === ME.email ? (splitAddrs(original.to_addrs)[0] ?? '') : original.from_addr]),
      cc_addrs: joinAddrs(cc),
      subject: subject || (original ? prefixed('Re', original.subject) : ''),
      body,
      in_reply_to: original?.id ?? null,
      forwarded_from: null,
    });
    return { content: `Saved draft ${row.id}${row.to_addrs ? ` to ${row.to_addrs}` : ''}. It has not been sent.`, data: { id: row.id } };
  },
});

export const send_draft = defineTool({
  description: 'Send one of your drafts as it is.',
  input: z.object({ draftId: z.string().min(1) }),
  run: ({ draftId }, ctx) => {
    const draft = getMessage(ctx.db, draftId);
    if (draft.folder !== 'drafts') throw new ToolError(`${draftId} is not a draft (it is in ${draft.folder})`);
    if (!draft.to_addrs) throw new ToolError(`draft ${draftId} has no recipients; create a new draft or use send_message`);
    if (!draft.subject.trim()) throw new ToolError(`draft ${draftId} has no subject`);
    const sentAt = ctx.clock.now().toISOString();
    ctx.db.prepare(`UPDATE messages SET folder = 'sent', sent_at = ? WHERE id = ?`).run(sentAt, draftId);
    recordDelivery(ctx.db, 'draft', { ...draft, folder: 'sent', sent_at: sentAt });
    return `Sent draft ${draftId} to ${draft.to_addrs}.`;
  },
});

export const submit = defineTool({
  description: 'Finish the task. Give `answer` when the request asked a question.',
  input: z.object({ answer: z.string().optional() }),
  endsEpisode: true,
  run: ({ answer }) => (answer === undefined ? { content: 'Submitted.' } : { content: 'Submitted.', answer }),
});
