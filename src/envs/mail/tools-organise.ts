import { z } from 'zod';
import { defineTool, ToolError } from '../define.ts';
import type { ContactRow } from './schema.ts';
import { insertContact } from './seed.ts';
import { addLabelRow, findFolder, findLabel, getMessage, isAddress, labelsOf, normaliseAddress, resolveFolder } from './store.ts';

const MessageId = z.string().min(1);

export const create_folder = defineTool({
  description: 'Create a custom folder (does nothing if one with that name exists).',
  input: z.object({ name: z.string().trim().min(1).max(60).regex(/^[^/\\]+$/, 'a name without slashes') }),
  run: ({ name }, { db }) => {
    const existing = findFolder(db, name);
    if (existing) return `Folder "${existing}" already exists.`;
    db.prepare(`INSERT INTO folders (name, kind) VALUES (?, 'custom')`).run(name);
    return `Created folder "${name}".`;
  },
});

export const move_message = defineTool({
  description: 'Move one message to a folder (inbox, archive, trash or a custom folder).',
  input: z.object({ messageId: MessageId, folder: z.string().min(1) }),
  run: ({ messageId, folder }, { db }) => {
    const row = getMessage(db, messageId);
    const target = resolveFolder(db, folder);
    if (target === 'sent' || target === 'drafts') throw new ToolError(`messages cannot be moved into ${target}; it only holds mail you send or draft`);
    if (row.folder === 'drafts') throw new ToolError(`${messageId} is a draft; send it with send_draft or delete it`);
    if (row.folder === target) return `${messageId} is already in ${target}.`;
    db.prepare('UPDATE messages SET folder = ? WHERE id = ?').run(target, messageId);
    return `Moved ${messageId} from ${row.folder} to ${target}.`;
  },
});

export const add_label = defineTool({
  description: 'Add a label to one message; a label that does not exist yet is created.',
  input: z.object({ messageId: MessageId, label: z.string().trim().min(1).max(60) }),
  run: ({ messageId, label }, { db }) => {
    getMessage(db, messageId);
    const existing = findLabel(db, label);
    const name = existing ?? label;
    if (labelsOf(db, messageId).includes(name)) return `${messageId} already has label "${name}".`;
    addLabelRow(db, messageId, name);
    return `Labelled ${messageId} "${name}"${existing ? '' : ' (new label)'}.`;
  },
});

export const remove_label = defineTool({
  description: 'Remove a label from one message.',
  input: z.object({ messageId: MessageId, label: z.string().trim().min(1) }),
  run: ({ messageId, label }, { db }) => {
    getMessage(db, messageId);
    const name = findLabel(db, label);
    const has = labelsOf(db, messageId);
    if (!name || !has.includes(name)) throw new ToolError(`${messageId} has no label "${label}"; its labels: ${has.join(', ') || '(none)'}`);
    db.prepare('DELETE FROM message_labels WHERE message_id = ? AND label = ?').run(messageId, name);
    return `Removed label "${name}" from ${messageId}.`;
  },
});

export const mark_read = defineTool({
  description: 'Mark one message as read.',
  input: z.object({ messageId: MessageId }),
  run: ({ messageId }, { db }) => {
    getMessage(db, messageId);
    db.prepare('UPDATE messages SET read = 1 WHERE id = ?').run(messageId);
    return `Marked ${messageId} read.`;
  },
});

export const mark_unread = defineTool({
  description: 'Mark one message as unread.',
  input: z.object({ messageId: MessageId }),
  run: ({ messageId }, { db }) => {
    getMessage(db, messageId);
    db.prepare('UPDATE messages SET read = 0 WHERE id = ?').run(messageId);
    return `Marked ${messageId} unread.`;
  },
});

export const star_message = defineTool({
  description: 'Star one message, or unstar it with `starred: false`.',
  input: z.object({ messageId: MessageId, starred: z.boolean().default(true) }),
  run: ({ messageId, starred }, { db }) => {
    getMessage(db, messageId);
    db.prepare('UPDATE messages SET starred = ? WHERE id = ?').run(starred ? 1 : 0, messageId);
    return `${starred ? 'Starred' : 'Unstarred'} ${messageId}.`;
  },
});

export const delete_message = defineTool({
  description: 'Delete one message: it moves to trash; deleting a message already in trash removes it for good.',
  input: z.object({ messageId: MessageId }),
  run: ({ messageId }, { db }) => {
    const row = getMessage(db, messageId);
    if (row.folder === 'trash') {
      db.prepare('DELETE FROM message_labels WHERE message_id = ?').run(messageId);
      db.prepare('DELETE FROM messages WHERE id = ?').run(messageId);
      return `Permanently deleted ${messageId}.`;
    }
    db.prepare(`UPDATE messages SET folder = 'trash' WHERE id = ?`).run(messageId);
    return `Moved ${messageId} to trash.`;
  },
});

const Email = z.string().refine(isAddress, 'an email address like name@example.com');

export const add_contact = defineTool({
  description: 'Add a person to contacts.',
  input: z.object({ name: z.string().trim().min(1), email: Email, company: z.string().default(''), phone: z.string().default(''), notes: z.string().default('') }),
  run: (input, ctx) => {
    const email = normaliseAddress(input.email);
    const existing = ctx.db.prepare('SELECT id, name FROM contacts WHERE email = ?').get(email) as { id: string; name: string } | undefined;
    if (existing) throw new ToolError(`${email} is already a contact (${existing.name}, ${existing.id}); use update_contact to change it`);
    const id = insertContact(ctx, { ...input, email });
    return { content: `Added contact ${id}: ${input.name} <${email}>.`, data: { id } };
  },
});

export const update_contact = defineTool({
  description: 'Change fields of one contact; fields left out stay as they are.',
  input: z
    .object({
      contactId: z.string().min(1),
      name: z.string().trim().min(1).optional(),
      email: Email.optional(),
      company: z.string().optional(),
      phone: z.string().optional(),
      notes: z.string().optional(),
    })
    .refine((v) => [v.name, v.email, v.company, v.phone, v.notes].some((f) => f !== undefined), 'give at least one field to change'),
  run: ({ contactId, ...fields }, { db }) => {
    const row = db.prepare('SELECT * FROM contacts WHERE id = ?').get(contactId) as ContactRow | undefined;
    if (!row) throw new ToolError(`no contact with id "${contactId}" (ids look like ct_1234; search_contacts lists them)`);
    const email = fields.email === undefined ? row.email : normaliseAddress(fields.email);
    const clash = db.prepare('SELECT id FROM contacts WHERE email = ? AND id != ?').get(email, contactId) as { id: string } | undefined;
    if (clash) throw new ToolError(`${email} already belongs to contact ${clash.id}`);
    const next = { ...row, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), email };
    db.prepare('UPDATE contacts SET name = ?, email = ?, company = ?, phone = ?, notes = ? WHERE id = ?').run(next.name, next.email, next.company, next.phone, next.notes, contactId);
    return `Updated contact ${contactId}: ${next.name} <${next.email}>.`;
  },
});
