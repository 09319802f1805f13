import { z } from 'zod';
import type { JsonObject } from '../../core/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { rowsOf } from '../state.ts';
import { sentChecks } from './checks-sent.ts';
import { digits, mentions, missingKeywords, normaliseText } from './match.ts';
import type { ContactRow, MessageRow } from './schema.ts';

const Ids = z.array(z.string().min(1)).min(1);
const Name = z.string().optional();

function messagesOf(snapshot: JsonObject): Map<string, MessageRow> {
  return new Map((rowsOf(snapshot, 'messages') as unknown as MessageRow[]).map((r) => [r.id, r]));
}

function labelsBy(snapshot: JsonObject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rowsOf(snapshot, 'message_labels')) {
    const id = String(r.message_id);
    out.set(id, [...(out.get(id) ?? []), String(r.label).toLowerCase()].sort());
  }
  return out;
}

/** Runs `test` on each listed message in the final state; fails naming every one that does not pass. */
function eachMessage(ids: readonly string[], final: JsonObject, test: (row: MessageRow | undefined, id: string) => string | null): CheckOutput {
  const rows = messagesOf(final);
  const bad = ids.flatMap((id) => {
    const problem = test(rows.get(id), id);
    return problem ? [`${id} ${problem}`] : [];
  });
  return bad.length === 0 ? { passed: true } : { passed: false, detail: `${bad.length} of ${ids.length}: ${bad.slice(0, 6).join('; ')}` };
}

const stateChecks: Record<string, CheckDefinition> = {
  message_in_folder: defineCheck({
    kind: 'outcome',
    description: 'Each listed message is in `folder` (case-insensitive).',
    params: z.object({ messageIds: Ids, folder: z.string().min(1), name: Name }),
    run: ({ messageIds, folder }, { final }) =>
      eachMessage(messageIds, final, (row) => (!row ? 'was deleted' : row.folder.toLowerCase() === folder.toLowerCase() ? null : `is in ${row.folder}`)),
  }),
  has_label: defineCheck({
    kind: 'outcome',
    description: 'Each listed message has `label` (or, with `present: false`, does not).',
    params: z.object({ messageIds: Ids, label: z.string().min(1), present: z.boolean().default(true), name: Name }),
    run: ({ messageIds, label, present }, { final }) => {
      const labels = labelsBy(final);
      return eachMessage(messageIds, final, (row, id) => {
        if (!row) return 'was deleted';
        const has = (labels.get(id) ?? []).includes(label.toLowerCase());
        return has === present ? null : present ? `lacks label ${label}` : `has label ${label}`;
      });
    },
  }),
  is_read: defineCheck({
    kind: 'outcome',
    description: 'Each listed message is read (or unread with `read: false`).',
    params: z.object({ messageIds: Ids, read: z.boolean().default(true), name: Name }),
    run: ({ messageIds, read }, { final }) =>
      eachMessage(messageIds, final, (row) => (!row ? 'was deleted' : (row.read === 1) === read ? null : read ? 'is unread' : 'is read')),
  }),
  is_starred: defineCheck({
    kind: 'outcome',
    description: 'Each listed message is starred (or not, with `starred: false`).',
    params: z.object({ messageIds: Ids, starred: z.boolean().default(true), name: Name }),
    run: ({ messageIds, starred }, { final }) =>
      eachMessage(messageIds, final, (row) => (!row ? 'was deleted' : (row.starred === 1) === starred ? null : starred ? 'is not starred' : 'is starred')),
  }),
  deleted: defineCheck({
    kind: 'outcome',
    description: 'Each listed message is in trash or gone; with `permanently`, gone.',
    params: z.object({ messageIds: Ids, permanently: z.boolean().default(false), name: Name }),
    run: ({ messageIds, permanently }, { final }) =>
      eachMessage(messageIds, final, (row) => (!row ? null : permanently ? `is still in ${row.folder}` : row.folder === 'trash' ? null : `is in ${row.folder}`)),
  }),
  not_deleted: defineCheck({
    kind: 'invariant',
    description: 'Each listed message still exists outside trash.',
    params: z.object({ messageIds: Ids, name: Name }),
    run: ({ messageIds }, { final }) => eachMessage(messageIds, final, (row) => (!row ? 'was deleted' : row.folder === 'trash' ? 'is in trash' : null)),
  }),
  messages_unchanged_except: defineCheck({
    kind: 'invariant',
    description:
      'Every message that existed at the start, apart from `except`, keeps its folder, labels and star (and read state with `includeRead`); none is deleted.',
    params: z.object({ except: z.array(z.string()).default([]), includeRead: z.boolean().default(false), name: Name }),
    run: ({ except, includeRead }, { initial, final }) => {
      // Snapshots with no write in between share their rows: nothing can have changed.
      if (rowsOf(initial, 'messages') === rowsOf(final, 'messages') && rowsOf(initial, 'message_labels') === rowsOf(final, 'message_labels')) return { passed: true };
      const skip = new Set(except);
      const after = messagesOf(final);
      const labelsBefore = labelsBy(initial);
      const labelsAfter = labelsBy(final);
      const bad: string[] = [];
      for (const before of messagesOf(initial).values()) {
        if (skip.has(before.id)) continue;
        const now = after.get(before.id);
        if (!now) bad.push(`${before.id} deleted`);
        else {
          if (now.folder !== before.folder) bad.push(`${before.id} moved ${before.folder}→${now.folder}`);
          if (now.starred !== before.starred) bad.push(`${before.id} ${now.starred ? 'starred' : 'unstarred'}`);
          if (includeRead && now.read !== before.read) bad.push(`${before.id} marked ${now.read ? 'read' : 'unread'}`);
          const lb = (labelsBefore.get(before.id) ?? []).join(',');
          const la = (labelsAfter.get(before.id) ?? []).join(',');
          if (lb !== la) bad.push(`${before.id} labels [${lb}]→[${la}]`);
        }
      }
      return bad.length === 0 ? { passed: true } : { passed: false, detail: `${bad.length} unrelated changes: ${bad.slice(0, 6).join('; ')}` };
    },
  }),
  contact_exists: defineCheck({
    kind: 'outcome',
    description: 'A contact with `email` exists; `name` words, `company`, `phone` digits and `notes` keywords must match when given.',
    params: z.object({ email: z.string().min(1), name: z.string().optional(), company: z.string().optional(), phone: z.string().optional(), notes: z.array(z.string()).default([]) }),
    run: ({ email, name, company, phone, notes }, { final }) => {
      const row = (rowsOf(final, 'contacts') as unknown as ContactRow[]).find((c) => c.email === email.toLowerCase());
      if (!row) return { passed: false, detail: `no contact ${email}` };
      const problems: string[] = [];
      if (name && missingKeywords(row.name, name.split(/\s+/)).length > 0) problems.push(`name is "${row.name}"`);
      if (company && !mentions(row.company, company)) problems.push(`company is "${row.company}"`);
      // Country codes and leading zeros vary in how people write numbers: compare the last eight digits.
      if (phone && !digits(row.phone).endsWith(digits(phone).slice(-8))) problems.push(`phone is "${row.phone}"`);
      const missing = missingKeywords(row.notes, notes);
      if (missing.length > 0) problems.push(`notes lack ${missing.join(', ')}`);
      return problems.length === 0 ? { passed: true } : { passed: false, detail: `${email}: ${problems.join('; ')}` };
    },
  }),
  contact_absent: defineCheck({
    kind: 'outcome',
    description: 'No contact has `email` (an old address that was updated, a duplicate that was merged).',
    params: z.object({ email: z.string().min(1), name: Name }),
    run: ({ email }, { final }) =>
      (rowsOf(final, 'contacts') as unknown as ContactRow[]).some((c) => c.email === email.toLowerCase())
        ? { passed: false, detail: `a contact still has ${email}` }
        : { passed: true },
  }),
  contacts_unchanged_except: defineCheck({
    kind: 'invariant',
    description: 'Contacts are as they were, except ones whose old or new email is in `emails`; new contacts only with those emails.',
    params: z.object({ emails: z.array(z.string()).default([]), name: Name }),
    run: ({ emails }, { initial, final }) => {
      const allowed = new Set(emails.map((e) => e.toLowerCase()));
      const before = new Map((rowsOf(initial, 'contacts') as unknown as ContactRow[]).map((c) => [c.id, c]));
      const after = new Map((rowsOf(final, 'contacts') as unknown as ContactRow[]).map((c) => [c.id, c]));
      const bad: string[] = [];
      for (const [id, old] of before) {
        const now = after.get(id);
        if (allowed.has(old.email) || (now && allowed.has(now.email))) continue;
        if (!now) bad.push(`${old.email} removed`);
        else if (now !== old && JSON.stringify(now) !== JSON.stringify(old)) bad.push(`${old.email} changed`);
      }
      for (const [id, now] of after) if (!before.has(id) && !allowed.has(now.email)) bad.push(`${now.email} added`);
      return bad.length === 0 ? { passed: true } : { passed: false, detail: bad.slice(0, 6).join('; ') };
    },
  }),
  answer_mentions: defineCheck({
    kind: 'outcome',
    description: 'The submitted answer mentions every keyword in `all` ("a|b" for alternatives, whole words) and none in `none`.',
    params: z.object({ all: z.array(z.string()).min(1), none: z.array(z.string()).default([]), name: Name }),
    run: ({ all, none }, { answer }) => {
      if (answer === null || !normaliseText(answer)) return { passed: false, detail: 'no answer was submitted' };
      const missing = missingKeywords(answer, all);
      const wrong = none.filter((k) => mentions(answer, k));
      if (missing.length === 0 && wrong.length === 0) return { passed: true };
      return { passed: false, detail: [missing.length ? `lacks ${missing.join(', ')}` : '', wrong.length ? `mentions ${wrong.join(', ')}` : ''].filter(Boolean).join('; ') };
    },
  }),
};

/** Every mail check; tasks may also use the generic ones (answer_contains, table_unchanged). */
export const mailChecks: Record<string, CheckDefinition> = { ...sentChecks, ...stateChecks };
