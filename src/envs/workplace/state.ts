import { z } from 'zod';
import { describeZodIssues, type Task } from '../../core/index.ts';
import { ScheduledEvent, type EpisodeContext, type FixedSeedContext } from '../define.ts';
import { parseTaskPart } from '../parsed.ts';
import { CalendarFixtures, seedCalendarBase, seedCalendarNoise } from '../calendar/index.ts';
import { MailInitialState, restoreMailBesideWith, seedMailState } from '../mail/index.ts';
import { NotesFixtures, seedNotesWith } from '../notes/index.ts';
import { UserScenario } from '../users/scenario.ts';
import { ChatFixtures } from './chat-schema.ts';
import { restoreChatBeside, seedChat } from './chat-seed.ts';
import { mailAlias, mapStrings, scoped } from './compose.ts';
import { seedWorkplaceMail } from './mail-noise.ts';
import { EXTRA_MEMBERS } from './people.ts';

const Slice = z.record(z.string(), z.unknown());

/**
 * A workplace task's `initialState`: one key per app, each in that app's own fixture format
 * (see the mail, notes and calendar READMEs; chat is described in chat-schema.ts), plus the
 * generic world options. Unknown top-level keys are refused so a typo cannot drop fixtures.
 */
export const WorkplaceInitialState = z
  .object({
    mail: Slice.default({}),
    notes: Slice.default({}),
    calendar: Slice.default({}),
    chat: ChatFixtures.default({ channels: [], messages: [], statuses: {} }),
    now: z.string().optional(),
    schedule: z.array(ScheduledEvent).default([]),
    flakyTools: z.array(z.string()).default([]),
    /** The simulated user (persona, facts, confirmation), for tasks with one: see ../users. */
    user: UserScenario.optional(),
  })
  .strict();
export type WorkplaceInitialState = z.infer<typeof WorkplaceInitialState>;

/**
 * What a task's `initialState` is checked against when it is loaded: each app's slice in that
 * app's own fixture format, so a bad or misspelt fixture is named then, not dropped or found at seeding.
 */
export const WorkplaceTaskState = WorkplaceInitialState.extend({
  mail: MailInitialState.optional(),
  notes: NotesFixtures.optional(),
  calendar: CalendarFixtures.optional(),
});

export function workplaceStateOf(ctx: { task: Pick<Task, 'initialState'> }): WorkplaceInitialState {
  const parsed = parseTaskPart(WorkplaceInitialState, ctx.task.initialState);
  if (!parsed.success) throw new Error(`initialState is not valid workplace state:\n${describeZodIssues(parsed.error.issues, 'initialState')}`);
  return parsed.data;
}

/** The mail slice in the mail environment's terms: Robin's address becomes the mailbox owner's. */
export function mailStateFor(raw: Record<string, unknown>): MailInitialState {
  const parsed = MailInitialState.safeParse(mapStrings(raw, mailAlias.fromAgent));
  if (!parsed.success) throw new Error(`initialState.mail:\n${describeZodIssues(parsed.error.issues, 'initialState.mail')}`);
  return parsed.data;
}

function parseSlice<S extends z.ZodType>(schema: S, raw: unknown, app: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`initialState.${app}:\n${describeZodIssues(parsed.error.issues, `initialState.${app}`)}`);
  return parsed.data;
}

/** Every app from the same roster: task fixtures first (stable ids), then seeded background per app. */
export function seedWorkplace(ctx: EpisodeContext): void {
  seedWorkplaceApps(ctx, { calendarBase: true });
}

/**
 * The workplace's `seedFixed`: the calendar's people, recurring meetings and fixtures, which no
 * seed changes. Calendar rows are the calendar's own tables and take no generated ids, so
 * writing them before the other apps leaves every table as `seedWorkplace` would.
 */
export function seedWorkplaceFixed(ctx: FixedSeedContext): void {
  seedCalendarBase(ctx.db, parseSlice(CalendarFixtures, workplaceStateOf(ctx).calendar, 'calendar'));
}

/** The workplace's `seed` after `seedWorkplaceFixed`. */
export function seedWorkplaceVaried(ctx: EpisodeContext): void {
  seedWorkplaceApps(ctx, { calendarBase: false });
}

/** What the workplace's seed keeps beside the database (mail's and chat's reserved ids, mail's thread keys), rebuilt on a copy of a kept world. */
export function restoreWorkplaceBeside(ctx: EpisodeContext): void {
  const state = workplaceStateOf(ctx);
  restoreMailBesideWith(scoped(ctx, 'mail'), { ...mailStateFor(state.mail), background: false });
  restoreChatBeside(ctx, state.chat);
}

function seedWorkplaceApps(ctx: EpisodeContext, options: { calendarBase: boolean }): void {
  const state = workplaceStateOf(ctx);
  const mail = mailStateFor(state.mail);
  const mailCtx = { ...scoped(ctx, 'mail'), rng: ctx.rng.fork('mail') };
  seedMailState(mailCtx, { ...mail, background: false });
  if (mail.background !== false) seedWorkplaceMail(mailCtx, mail.background ?? { min: 30, max: 60 });

  const notesMembers = Array.isArray(state.notes.members) ? state.notes.members : [];
  const notes = parseSlice(NotesFixtures, { ...state.notes, members: [...EXTRA_MEMBERS, ...notesMembers] }, 'notes');
  seedNotesWith({ ...scoped(ctx, 'notes'), rng: ctx.rng.fork('notes') }, notes);

  const calendar = parseSlice(CalendarFixtures, state.calendar, 'calendar');
  const calendarCtx = { ...scoped(ctx, 'calendar'), rng: ctx.rng.fork('calendar') };
  if (options.calendarBase) seedCalendarBase(ctx.db, calendar);
  seedCalendarNoise(calendarCtx, calendar);
  seedChat({ ...ctx, rng: ctx.rng.fork('chat') }, state.chat);
}
