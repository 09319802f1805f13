import { z } from 'zod';

/** The mailbox owner: every task's "me". */
export const ME = { name: 'Robin Hale', email: 'me@northwind.example' } as const;

/** The system prompt every mail task uses unless it gives its own. */
export const MAIL_SYSTEM_PROMPT = [
  `You are the email assistant of ${ME.name} (${ME.email}) at Northwind, working in their mailbox through the mail tools.`,
  'Each tool acts on one message or contact at a time. Today is Tuesday 10 March 2026.',
  'Check the facts in the mail before acting, and send, move, label or delete nothing the request does not ask for.',
  'When you are done, call submit (with an answer if the request asked a question).',
].join('\n');

export const SYSTEM_FOLDERS = ['inbox', 'sent', 'archive', 'trash', 'drafts'] as const;

/**
 * The mailbox state. Addresses are stored lower-case, lists as "a@x, b@y". `deliveries` is an
 * append-only record of everything sent (no tool reads it), so a sent message still counts after
 * the agent deletes it from the sent folder.
 */
export const mailSchema = `
CREATE TABLE folders (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('system', 'custom'))
);
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  thread_id TEXT NOT NULL,
  folder TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  from_name TEXT NOT NULL,
  to_addrs TEXT NOT NULL,
  cc_addrs TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at TEXT NOT NULL,
  read INTEGER NOT NULL DEFAULT 0,
  starred INTEGER NOT NULL DEFAULT 0,
  in_reply_to TEXT,
  forwarded_from TEXT
);
CREATE INDEX messages_thread ON messages(thread_id);
-- Covers list_folders' counts, so they read a small index instead of every message's body.
CREATE INDEX messages_folder_read ON messages(folder, read);
CREATE TABLE labels (
  name TEXT PRIMARY KEY
);
CREATE TABLE message_labels (
  message_id TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (message_id, label)
);
-- list_folders counts each label's messages: without this SQLite builds a temporary index over
-- every message's labels on each call.
CREATE INDEX message_labels_by_label ON message_labels(label);
CREATE TABLE contacts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  company TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT ''
);
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('send', 'reply', 'forward', 'draft')),
  thread_id TEXT NOT NULL,
  to_addrs TEXT NOT NULL,
  cc_addrs TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  in_reply_to TEXT,
  forwarded_from TEXT,
  sent_at TEXT NOT NULL
);
`;

export interface MessageRow {
  id: string;
  thread_id: string;
  folder: string;
  from_addr: string;
  from_name: string;
  to_addrs: string;
  cc_addrs: string;
  subject: string;
  body: string;
  sent_at: string;
  read: number;
  starred: number;
  in_reply_to: string | null;
  forwarded_from: string | null;
}

export interface ContactRow {
  id: string;
  name: string;
  email: string;
  company: string;
  phone: string;
  notes: string;
}

export interface DeliveryRow {
  seq: number;
  message_id: string;
  kind: 'send' | 'reply' | 'forward' | 'draft';
  thread_id: string;
  to_addrs: string;
  cc_addrs: string;
  subject: string;
  body: string;
  in_reply_to: string | null;
  forwarded_from: string | null;
  sent_at: string;
}

const Address = z.string().regex(/^[^\s<>@,]+@[^\s<>@,]+\.[^\s<>@,]+$/, 'an email address like name@example.com');

/** A message a task places in the mailbox (or delivers later through `new_mail_arrives`). */
export const MessageFixture = z
  .object({
    /** Stable id for verifiers and golden steps (msg_ plus four digits reads like the generated ones). */
    id: z.string().regex(/^msg_\d{4}$/, 'msg_ followed by four digits').optional(),
    /** Messages with the same thread key share a thread. */
    thread: z.string().min(1).optional(),
    /** Defaults to inbox, or sent for messages from me. */
    folder: z.string().min(1).optional(),
    from: Address,
    fromName: z.string().min(1).optional(),
    to: z.array(Address).default([]),
    cc: z.array(Address).default([]),
    subject: z.string(),
    body: z.string(),
    /** When it was sent, relative to the episode start; `sentAt` gives an absolute time instead. */
    hoursAgo: z.number().nonnegative().optional(),
    sentAt: z.string().datetime({ offset: true }).optional(),
    read: z.boolean().default(false),
    starred: z.boolean().default(false),
    inReplyTo: z.string().optional(),
    labels: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type MessageFixture = z.infer<typeof MessageFixture>;
export type MessageFixtureInput = z.input<typeof MessageFixture>;

export const ContactFixture = z
  .object({
    /** Stable id for golden steps that edit this contact. */
    id: z.string().regex(/^ct_\d{4}$/, 'ct_ followed by four digits').optional(),
    name: z.string().min(1),
    email: Address,
    company: z.string().default(''),
    phone: z.string().default(''),
    notes: z.string().default(''),
  })
  .strict();
export type ContactFixture = z.infer<typeof ContactFixture>;
export type ContactFixtureInput = z.input<typeof ContactFixture>;

/** The mail-specific part of `task.initialState` (the generic world options sit beside it). */
export const MailInitialState = z.object({
  folders: z.array(z.string().min(1)).default([]),
  labels: z.array(z.string().min(1)).default([]),
  contacts: z.array(ContactFixture).default([]),
  messages: z.array(MessageFixture).default([]),
  /** Background mail: how many seeded noise messages to add (`false` for none, e.g. in unit tests). */
  background: z.union([z.literal(false), z.object({ min: z.number().int().nonnegative(), max: z.number().int().positive() })]).optional(),
});
export type MailInitialState = z.infer<typeof MailInitialState>;
