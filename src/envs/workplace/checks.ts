import { z } from 'zod';
import { defineCheck, type CheckDefinition, type CheckOutput, type VerifyContext } from '../define.ts';
import { calendarChecks, checkCalendarUnchanged } from '../calendar/index.ts';
import { mailChecks } from '../mail/index.ts';
import { checkWorkspaceUnchanged, notesChecks } from '../notes/index.ts';
import { chatChecks, checkChatUnchanged } from './chat-checks.ts';
import { adaptAll, adaptCheck, mailAlias, scoped } from './compose.ts';

const MailAllowance = z.object({
  /** Addresses mail may go to. */
  allowed: z.array(z.string()).default([]),
  /** At most this many messages sent. */
  max: z.number().int().nonnegative().optional(),
  /** Messages that may be moved, labelled, starred or deleted. */
  except: z.array(z.string()).default([]),
  /** Contacts (old or new email) that may change or be added. */
  contacts: z.array(z.string()).default([]),
});

const NotesAllowance = z.object({
  may_change: z.array(z.string()).default([]),
  may_edit_content: z.array(z.string()).default([]),
  may_comment: z.array(z.string()).default([]),
  may_create_under: z.array(z.string()).default([]),
  max_created: z.number().int().nonnegative().optional(),
});

const CalendarAllowance = z.object({
  may_change: z.array(z.string()).default([]),
  may_cancel: z.array(z.string()).default([]),
  may_respond: z.array(z.string()).default([]),
  may_create: z.number().int().nonnegative().default(0),
});

const ChatAllowance = z.object({
  channels: z.array(z.string()).default([]),
  threads: z.array(z.string()).default([]),
  dms: z.array(z.string()).default([]),
  reactions: z.array(z.string()).default([]),
  max_posts: z.number().int().nonnegative().optional(),
});

async function runMailCheck(name: string, params: Record<string, unknown>, ctx: VerifyContext): Promise<CheckOutput> {
  const check = mailChecks[name];
  if (!check) throw new Error(`mail has no check ${name}`);
  const out = await check.run(check.params.parse(params), scoped(ctx, 'mail'));
  return out.detail === undefined ? out : { ...out, detail: mailAlias.toAgent(out.detail) };
}

/**
 * The cross-app invariant every workplace task ends with: in each app, nothing beyond what the
 * task allows was sent, posted, created, changed or deleted. An app left out allows nothing.
 */
export const workplaceUnchanged = defineCheck({
  kind: 'invariant',
  description:
    'Nothing unrelated happened in any app: mail sent only to `mail.allowed` (at most `mail.max`), only `mail.except` messages reorganised, only `mail.contacts` edited; notes, calendar and chat changed only as their allowances say (see workspace_unchanged, calendar_unchanged, chat_unchanged).',
  params: z.object({
    name: z.string().optional(),
    mail: MailAllowance.default({ allowed: [], except: [], contacts: [] }),
    notes: NotesAllowance.default({ may_change: [], may_edit_content: [], may_comment: [], may_create_under: [] }),
    calendar: CalendarAllowance.default({ may_change: [], may_cancel: [], may_respond: [], may_create: 0 }),
    chat: ChatAllowance.default({ channels: [], threads: [], dms: [], reactions: [] }),
  }),
  run: async (p, ctx) => {
    const parts: [string, CheckOutput][] = [
      ['mail', await runMailCheck('no_other_sent', { allowed: p.mail.allowed, ...(p.mail.max === undefined ? {} : { max: p.mail.max }) }, ctx)],
      ['mail', await runMailCheck('messages_unchanged_except', { except: p.mail.except }, ctx)],
      ['mail', await runMailCheck('contacts_unchanged_except', { emails: p.mail.contacts }, ctx)],
      ['notes', checkWorkspaceUnchanged(p.notes, ctx.initial, ctx.final)],
      ['calendar', checkCalendarUnchanged(p.calendar, ctx.initial, ctx.final)],
      ['chat', checkChatUnchanged(p.chat, ctx)],
    ];
    const failed = parts.filter(([, out]) => !out.passed).map(([app, out]) => `${app}: ${out.detail ?? 'changed'}`);
    return failed.length === 0 ? { passed: true } : { passed: false, detail: failed.join(' | ') };
  },
});

/**
 * Every check of every app under its own name (calendar's answer_mentions, whose parameters
 * differ from mail's, becomes calendar_answer_mentions), the chat checks, and workplace_unchanged.
 */
export const workplaceChecks: Record<string, CheckDefinition> = {
  ...adaptAll(mailChecks, (c) => adaptCheck(c, 'mail')),
  ...adaptAll(notesChecks as Record<string, CheckDefinition>, (c) => adaptCheck(c, 'notes')),
  ...adaptAll(calendarChecks as Record<string, CheckDefinition>, (c) => adaptCheck(c, 'calendar'), { answer_mentions: 'calendar_answer_mentions' }),
  ...chatChecks,
  workplace_unchanged: workplaceUnchanged,
};
