// The mail environment: a seeded mailbox in SQLite, one-message-at-a-time tools, checks over the
// final state, mail that arrives mid-episode, and tasks from YAML files and TS families.
import { fileURLToPath } from 'node:url';
import type { Task } from '../../core/index.ts';
import { defineEnvironment } from '../define.ts';
import { loadTaskDirectory } from '../tasks.ts';
import { mailChecks } from './checks.ts';
import { mailDestructive } from './destructive.ts';
import { mailEvents } from './events.ts';
import { mailFamilyTasks } from './families/index.ts';
import { MAIL_SYSTEM_PROMPT, MailInitialState, mailSchema } from './schema.ts';
import { restoreMailBeside, seedMailFixed, seedMailVaried } from './seed.ts';
import { mailTools } from './tools.ts';
import { userChecks, userFollowUp, USER_LOG_SCHEMA, UserScenario, withUserTools } from '../users/index.ts';
import { askFirstMailTasks } from './families/ask-first.ts';

let cached: Task[] | undefined;

/** Tools that change the mailbox: with a simulated user, the user log records when each ran. */
export const MAIL_ACTIONS = [
  'send_message', 'reply', 'forward', 'create_draft', 'send_draft', 'create_folder', 'move_message', 'add_label',
  'remove_label', 'mark_read', 'mark_unread', 'star_message', 'delete_message', 'add_contact', 'update_contact',
] as const;

/** YAML tasks from ./tasks, the generated family variants, and the tasks with a simulated user. */
export function mailTasks(): Task[] {
  cached ??= [
    ...loadTaskDirectory(fileURLToPath(new URL('./tasks', import.meta.url)), { env: 'mail', systemPrompt: MAIL_SYSTEM_PROMPT }),
    ...mailFamilyTasks(),
    ...askFirstMailTasks(),
  ];
  return cached;
}

export const mail = defineEnvironment({
  name: 'mail',
  description: 'An email client for me@northwind.example: search, read, reply, forward, file, label and clean up mail, and keep contacts.',
  schema: `${mailSchema}\n${USER_LOG_SCHEMA}`,
  startTime: '2026-03-10T09:00:00Z',
  stepMs: 30_000,
  seedFixed: seedMailFixed,
  seed: seedMailVaried,
  seededWorlds: { restore: restoreMailBeside },
  // The mailbox's fixtures, and the simulated user of the tasks that have one.
  initialState: MailInitialState.extend({ user: UserScenario.optional() }),
  tools: withUserTools(mailTools, MAIL_ACTIONS),
  checks: { ...mailChecks, ...userChecks },
  followUp: (ctx, answer) => userFollowUp(ctx, answer),
  events: mailEvents,
  tasks: mailTasks,
  destructive: mailDestructive,
});

export { mailChecks } from './checks.ts';
export { newDeliveries, SentSpec } from './checks-sent.ts';
export { mailDestructive } from './destructive.ts';
export { mailEvents } from './events.ts';
export { MAIL_SYSTEM_PROMPT, mailSchema, ME, MailInitialState, MessageFixture, ContactFixture, SYSTEM_FOLDERS } from './schema.ts';
export type { ContactRow, DeliveryRow, MessageRow } from './schema.ts';
export { insertContact, insertFixtureMessage, mailStateOf, restoreMailBesideWith, seedFolders, seedMailbox, seedMailFixed, seedMailState, seedMailVaried } from './seed.ts';
export { seedBackground, type BackgroundOptions } from './noise.ts';
export { newId } from './store.ts';
export { mailTools } from './tools.ts';
