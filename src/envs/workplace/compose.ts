// Puts the other environments' tools, checks and world events into one workplace. Each app keeps
// its own code; this file only (1) hands it its own slice of `initialState`, (2) labels tool
// descriptions with the app, (3) renames where names would be ambiguous, and (4) translates the
// mailbox owner (the mail environment's fixed "me") into Robin Okafor, so one person acts everywhere.
import type { JsonObject, Task } from '../../core/index.ts';
import { ToolError, TransientToolError, type CheckDefinition, type EpisodeContext, type ToolDefinition, type ToolReturn, type WorldEventDefinition } from '../define.ts';
import { ME as MAIL_OWNER } from '../mail/index.ts';
import { ME } from './people.ts';

export type App = 'mail' | 'notes' | 'calendar' | 'chat';

/** Deep-maps every string in a JSON-like value. */
export function mapStrings<T>(value: T, f: (text: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, f)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, mapStrings(v, f)])) as T;
  }
  return value;
}

const OWNER_EMAIL = new RegExp(MAIL_OWNER.email.replace(/[.]/g, '\\.'), 'gi');
const OWNER_NAME = new RegExp(MAIL_OWNER.name, 'g');
const MY_EMAIL = new RegExp(ME.email.replace(/[.]/g, '\\.'), 'gi');

/** Mail stores its owner as its own fixed address; the agent only ever sees Robin's. */
export const mailAlias = {
  toAgent: (text: string): string => text.replace(OWNER_EMAIL, ME.email).replace(OWNER_NAME, ME.name),
  fromAgent: (text: string): string => text.replace(MY_EMAIL, MAIL_OWNER.email),
};

/** Tool names that change in the workplace, with the wording their texts use. */
const NOTES_RENAMES: [RegExp, string][] = [
  [/\buse search\b/g, 'use notes_search'],
  [/returned by search\b/g, 'returned by notes_search'],
  [/previous search result/g, 'previous notes_search result'],
];

interface Adapter {
  label: string;
  toAgent: (text: string) => string;
  fromAgent: (text: string) => string;
}

const identity = (text: string): string => text;

export const ADAPTERS: Record<App, Adapter> = {
  mail: { label: 'Mail', ...mailAlias },
  notes: { label: 'Notes', toAgent: (text) => NOTES_RENAMES.reduce((t, [from, to]) => t.replace(from, to), text), fromAgent: identity },
  calendar: { label: 'Calendar', toAgent: identity, fromAgent: identity },
  chat: { label: 'Chat', toAgent: identity, fromAgent: identity },
};

/** The app's own part of the task's initial state, plus the world options every app may read. */
export function appSlice(task: Task, app: App): JsonObject {
  const own = task.initialState[app];
  const slice: JsonObject = own !== null && typeof own === 'object' && !Array.isArray(own) ? { ...own } : {};
  if (task.initialState.schedule !== undefined) slice.schedule = task.initialState.schedule;
  return slice;
}

/** The task as one app sees it: its own slice of the initial state. */
export function scopedTask(task: Task, app: App): Task {
  return { ...task, initialState: appSlice(task, app) };
}

/** The episode as one app sees it. */
export function scoped<C extends EpisodeContext>(ctx: C, app: App): C {
  return { ...ctx, task: scopedTask(ctx.task, app) };
}

function rethrow(error: unknown, adapter: Adapter): never {
  if (error instanceof ToolError) throw new ToolError(adapter.toAgent(error.message));
  if (error instanceof TransientToolError) throw new TransientToolError(adapter.toAgent(error.message));
  throw error;
}

/** One app's tool as the workplace offers it. */
export function adaptTool(tool: ToolDefinition, app: App): ToolDefinition {
  const adapter = ADAPTERS[app];
  return {
    description: `${adapter.label}: ${adapter.toAgent(tool.description)}`,
    input: tool.input,
    ...(tool.endsEpisode ? { endsEpisode: true } : {}),
    run: async (input, ctx) => {
      try {
        const out = await tool.run(mapStrings(input, adapter.fromAgent), scoped(ctx, app));
        return mapStrings(out, adapter.toAgent) as ToolReturn;
      } catch (error) {
        return rethrow(error, adapter);
      }
    },
  };
}

/** An app's tools minus its own submit (the workplace has one), renamed where `renames` says. */
export function adaptTools(tools: Record<string, ToolDefinition>, app: App, renames: Record<string, string> = {}): Record<string, ToolDefinition> {
  return Object.fromEntries(
    Object.entries(tools)
      .filter(([name]) => name !== 'submit')
      .map(([name, tool]) => [renames[name] ?? name, adaptTool(tool, app)]),
  );
}

/** An app's check with its parameters translated the way the app's tools see them. */
export function adaptCheck(check: CheckDefinition, app: App): CheckDefinition {
  const adapter = ADAPTERS[app];
  return {
    ...check,
    run: async (params, ctx) => {
      const out = await check.run(mapStrings(params, adapter.fromAgent), scoped(ctx, app));
      return out.detail === undefined ? out : { ...out, detail: adapter.toAgent(out.detail) };
    },
  };
}

export function adaptEvent(event: WorldEventDefinition, app: App): WorldEventDefinition {
  const adapter = ADAPTERS[app];
  return { ...event, apply: (params, ctx) => event.apply(mapStrings(params, adapter.fromAgent), scoped(ctx, app)) };
}

export function adaptAll<T>(items: Record<string, T>, adapt: (item: T) => T, renames: Record<string, string> = {}): Record<string, T> {
  return Object.fromEntries(Object.entries(items).map(([name, item]) => [renames[name] ?? name, adapt(item)]));
}

