// The workplace environment: mail, notes, calendar and chat for one company (Larkspur) in one
// SQLite state, for tasks whose facts are spread across apps. Each app's tools, checks and world
// events come from its own environment (see compose.ts); chat lives here.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Task } from '../../core/index.ts';
import { defineEnvironment, defineTool, type ToolDefinition } from '../define.ts';
import { loadTaskDirectory } from '../tasks.ts';
import { CALENDAR_SCHEMA, calendarTools } from '../calendar/index.ts';
import { mailSchema, mailTools } from '../mail/index.ts';
import { NOTES_SCHEMA, notesTools } from '../notes/index.ts';
import { CHAT_SCHEMA } from './chat-schema.ts';
import { chatTools } from './chat-tools.ts';
import { workplaceChecks } from './checks.ts';
import { adaptTools } from './compose.ts';
import { workplaceDestructive } from './destructive.ts';
import { workplaceEvents } from './events.ts';
import { workplaceFamilyTasks } from './families/index.ts';
import { WORKPLACE_START, WORKPLACE_SYSTEM_PROMPT } from './constants.ts';
import { restoreWorkplaceBeside, seedWorkplaceFixed, seedWorkplaceVaried, WorkplaceTaskState } from './state.ts';
import { userChecks, userFollowUp, USER_LOG_SCHEMA, withUserTools } from '../users/index.ts';
import { askFirstWorkplaceTasks } from './families/ask-first.ts';

/** All tables of all four apps; no two apps share a table name (chat's are prefixed chat_). */
export const WORKPLACE_SCHEMA = [mailSchema, NOTES_SCHEMA, CALENDAR_SCHEMA, CHAT_SCHEMA, USER_LOG_SCHEMA].join('\n');

export const submit = defineTool({
  description: 'Finish the task. Give `answer` when the request asked a question.',
  input: z.object({ answer: z.string().optional() }),
  endsEpisode: true,
  run: ({ answer }) => (answer === undefined ? { content: 'Submitted.' } : { content: 'Submitted.', answer }),
});

/** Tool names stay the apps' own except notes' `search`, which would be ambiguous beside search_messages and search_chat. */
export const workplaceTools: Record<string, ToolDefinition> = {
  ...adaptTools(mailTools, 'mail'),
  ...adaptTools(notesTools, 'notes', { search: 'notes_search' }),
  ...adaptTools(calendarTools, 'calendar'),
  ...adaptTools(chatTools, 'chat'),
  submit,
};

/** Tools that change some app: with a simulated user, the user log records when each ran. */
export const WORKPLACE_ACTIONS = Object.keys(workplaceTools).filter((name) => !/^(list_|search|read_|get_|find_|query_|notes_search$|submit$)/.test(name));

let cached: Task[] | undefined;

export function workplaceTasks(): Task[] {
  cached ??= [
    ...loadTaskDirectory(fileURLToPath(new URL('./tasks', import.meta.url)), { env: 'workplace', systemPrompt: WORKPLACE_SYSTEM_PROMPT }),
    ...workplaceFamilyTasks(),
    ...askFirstWorkplaceTasks(),
  ];
  return cached;
}

export const workplace = defineEnvironment({
  name: 'workplace',
  description: 'Mail, notes, calendar and chat for one company: cross-app tasks whose facts are spread over all four, for Robin Okafor at Larkspur.',
  schema: WORKPLACE_SCHEMA,
  startTime: WORKPLACE_START,
  stepMs: 20_000,
  seedFixed: seedWorkplaceFixed,
  seed: seedWorkplaceVaried,
  seededWorlds: { restore: restoreWorkplaceBeside },
  initialState: WorkplaceTaskState,
  tools: withUserTools(workplaceTools, WORKPLACE_ACTIONS),
  checks: { ...workplaceChecks, ...userChecks },
  followUp: (ctx, answer) => userFollowUp(ctx, answer),
  events: workplaceEvents,
  tasks: workplaceTasks,
  destructive: workplaceDestructive,
});

export { workplaceChecks, workplaceUnchanged } from './checks.ts';
export { workplaceEvents, chatMessagePosted } from './events.ts';
export { workplaceDestructive } from './destructive.ts';
export { WorkplaceInitialState, seedWorkplace } from './state.ts';
export { CHAT_SCHEMA, ChatFixtures, ChatMessageFixture } from './chat-schema.ts';
export { chatTools } from './chat-tools.ts';
export { chatChecks } from './chat-checks.ts';
export { WORKPLACE_START, WORKPLACE_SYSTEM_PROMPT } from './constants.ts';
export { COLLEAGUES, ME as WORKPLACE_USER, P as WORKPLACE_PEOPLE } from './people.ts';
