import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Clock, JsonObject, JsonValue, Judge, Message, Rng, Sandbox, Task, ToolInvocation } from '../core/index.ts';
import type { SandboxBackend, SandboxLimits } from '../sandbox/index.ts';
import type { UserSimulator } from './users/simulator.ts';

/** Deterministic ids per episode: `ids.next('msg')` gives msg_0001, msg_0002, … */
export interface IdGenerator {
  next(prefix: string): string;
}

/** What `seedFixed` may use: the database, the task's identity and initial state, and what every episode of it starts with. */
export interface FixedSeedContext {
  db: Database.Database;
  task: Pick<Task, 'id' | 'initialState'>;
  /** Fresh, as every episode's is; the episode's ids continue from where these stop. */
  ids: IdGenerator;
  /** The episode's clock at its start. */
  clock: Clock;
}

/** Everything a tool, seed or check can touch. Nothing else: no globals, no wall clock. */
export interface EpisodeContext {
  db: Database.Database;
  clock: Clock;
  ids: IdGenerator;
  rng: Rng;
  task: Task;
  /** Present for environments declared with `sandbox: true`. */
  sandbox: Sandbox | undefined;
  signal: AbortSignal;
  /** Who plays the task's simulated user, when the run chose (an LLM user); tasks with a user fall back to the scripted one. */
  user?: UserSimulator;
}

/** A failure the model should read and may recover from (not found, not allowed, bad state). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** A failure that is expected to go away on retry (rate limits, flaky backends): injected by worlds that misbehave. */
export class TransientToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientToolError';
  }
}

export type ToolReturn = string | JsonValue | { content: string; data?: JsonValue; endsEpisode?: boolean; answer?: string };

export interface ToolDefinition<Input = unknown> {
  description: string;
  input: z.ZodType<Input>;
  run(input: Input, ctx: EpisodeContext): ToolReturn | Promise<ToolReturn>;
  /** Calling this tool ends the episode (submit). */
  endsEpisode?: boolean;
}

/** Registers a tool: a zod input schema (validated before `run`, published as JSON Schema) and a typed handler. */
export function defineTool<S extends z.ZodType>(definition: {
  description: string;
  input: S;
  run(input: z.output<S>, ctx: EpisodeContext): ToolReturn | Promise<ToolReturn>;
  endsEpisode?: boolean;
}): ToolDefinition<z.output<S>> {
  return definition as ToolDefinition<z.output<S>>;
}

export interface CheckOutput {
  passed: boolean;
  detail?: string;
  /** Named numeric rewards the check read (Harbor's reward.json keys): each becomes a reward term. */
  rewards?: Record<string, number>;
}

export interface VerifyContext extends EpisodeContext {
  /** The state right after reset (seeded world + task fixtures), for invariants. */
  initial: JsonObject;
  /** The state now. */
  final: JsonObject;
  /** What the agent answered or submitted, if anything. */
  answer: string | null;
  /** The agent's transcript (empty when verifying without one, e.g. golden replays). */
  messages: Message[];
  /** A judge model for LLM-judge checks, when the run configured one. */
  judge: Judge | undefined;
}

/**
 * A named, parameterised check a task's verifier can list. `outcome` checks say what must be
 * true at the end; `invariant` checks say what must not have changed.
 */
export interface CheckDefinition<Params = unknown> {
  kind: 'outcome' | 'invariant';
  description: string;
  params: z.ZodType<Params>;
  run(params: Params, ctx: VerifyContext): CheckOutput | Promise<CheckOutput>;
  /** What is wrong with `params` for this environment's world, known before any episode (a table it lacks); empty when nothing. */
  problems?(params: Params, world: WorldShape): string[];
}

/** The tables a verifier sees in `initial` and `final`, with their columns. */
export interface WorldShape {
  tables: ReadonlyMap<string, readonly string[]>;
}

export function defineCheck<S extends z.ZodType>(definition: {
  kind: 'outcome' | 'invariant';
  description: string;
  params: S;
  run(params: z.output<S>, ctx: VerifyContext): CheckOutput | Promise<CheckOutput>;
  problems?(params: z.output<S>, world: WorldShape): string[];
}): CheckDefinition<z.output<S>> {
  return definition as CheckDefinition<z.output<S>>;
}

/** Something that happens in the world during an episode (new mail, an edited page), on the seeded clock. */
export interface WorldEventDefinition<Params = unknown> {
  description: string;
  params: z.ZodType<Params>;
  apply(params: Params, ctx: EpisodeContext): void | Promise<void>;
}

export function defineWorldEvent<S extends z.ZodType>(definition: {
  description: string;
  params: S;
  apply(params: z.output<S>, ctx: EpisodeContext): void | Promise<void>;
}): WorldEventDefinition<z.output<S>> {
  return definition as WorldEventDefinition<z.output<S>>;
}

export interface EnvironmentDefinition {
  name: string;
  description: string;
  /** SQL that creates the state tables; runs on a fresh in-memory database each episode. */
  schema: string;
  /** Where the seeded clock starts (ISO time); a task may override with `initialState.now`. */
  startTime: string;
  /** Simulated time each tool call takes, so timestamps move deterministically. */
  stepMs?: number;
  /**
   * Fill the world: seeded background data plus the task's own fixtures from `task.initialState`.
   * Runs inside one transaction (as each tool call runs inside a savepoint): nest with
   * `db.transaction()` or SAVEPOINT, never BEGIN.
   */
  seed(ctx: EpisodeContext): void | Promise<void>;
  /**
   * The part of the world that depends on the task alone (its id and `initialState`, no rng). It
   * runs once per distinct task; the database it leaves is kept as an image, and each episode
   * starts from a fresh copy of it, with its ids continuing from there, before `seed` adds what
   * varies with the seed. State it keeps outside the database must be rebuilt by `seed`.
   */
  seedFixed?(ctx: FixedSeedContext): void;
  /**
   * Declares that `seed` reads only the task's id and `initialState`, draws only from `ctx.rng`,
   * and writes only the database, ids and clock: the world it makes is then a function of the task
   * and the seed, and episodes that repeat one (a group's rollouts, a retry, validate's plays)
   * start from a copy of the first one's instead of seeding again. `restore` rebuilds, on such a
   * copy, what the seed keeps outside the database. Ignored for sandboxed environments.
   */
  seededWorlds?: { restore?(ctx: EpisodeContext): void };
  /**
   * The environment's own part of a task's `initialState` (the world options sit beside it). A task
   * is checked against it when loaded, before any episode: what it refuses, and every key it would
   * drop at any level (its top level takes its own keys and the world options' only), is a problem
   * of the task. Without it, nothing beyond the world options is checked.
   */
  initialState?: z.ZodObject;
  tools: Record<string, ToolDefinition>;
  checks: Record<string, CheckDefinition>;
  events?: Record<string, WorldEventDefinition>;
  /** All built-in tasks (loaded lazily). */
  tasks(): Task[];
  /** Calls that would wreck the current state; validation proves the verifiers catch them. */
  destructive(ctx: EpisodeContext): ToolInvocation[];
  /** Needs a command sandbox (terminal, coding). */
  sandbox?: boolean;
  /** Needs a real process sandbox (bubblewrap); the in-process virtual shell cannot run it. */
  requiresProcessSandbox?: boolean;
  /** A task's own sandbox settings (an imported task's WORKDIR, its task.toml limits), passed to the sandbox it runs in. */
  sandboxOptions?(task: Task): { workdir?: string; limits?: SandboxLimits; image?: string; imageOnly?: boolean };
  /** Time an episode may need beyond the agent's deadline (building an imported task's image at reset, its verifier's own timeout). */
  overheadMs?(task: Task): number;
  /**
   * Task checks only this environment can make (e.g. coding: hidden tests fail before the golden
   * patch and pass after). Returns problems; empty means valid. Run by `gauntlet validate`.
   */
  selfCheck?(task: Task, options: { seed: number; sandbox?: SandboxBackend }): Promise<string[]>;
  /** The next user turn after the model answers (multi-turn tasks); null or absent ends the episode. */
  followUp?(ctx: EpisodeContext, answer: string, answered: number): string | null | Promise<string | null>;
  /**
   * The reward config (as a `--reward` file holds it, rubrics inline) for runs of this
   * environment's tasks that give none; validated by the runner, which stores it with the run.
   */
  reward?: JsonObject;
  /** Extra state for snapshots beyond the SQLite tables (e.g. sandbox files). */
  extraSnapshot?(ctx: EpisodeContext): Promise<JsonObject>;
  /** The tables `extraSnapshot` adds, with the columns of their rows, so checks may name them. */
  extraSnapshotTables?: Readonly<Record<string, readonly string[]>>;
}

export function defineEnvironment(definition: EnvironmentDefinition): EnvironmentDefinition {
  return definition;
}

/** The verifier shape every built-in environment reads from `task.verifier`. */
export const CheckSpec = z
  .object({ check: z.string().min(1) })
  .catchall(z.unknown());
export type CheckSpec = z.infer<typeof CheckSpec>;

export const VerifierSpec = z.object({
  checks: z.array(CheckSpec).min(1, 'at least one check'),
});
export type VerifierSpec = z.infer<typeof VerifierSpec>;

/** Events scheduled by a task: `atMs` after the episode starts (seeded clock), or after N tool calls. */
export const ScheduledEvent = z
  .object({
    event: z.string().min(1),
    atMs: z.number().int().nonnegative().optional(),
    afterCalls: z.number().int().nonnegative().optional(),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((e) => (e.atMs === undefined) !== (e.afterCalls === undefined), 'give exactly one of atMs or afterCalls');
export type ScheduledEvent = z.infer<typeof ScheduledEvent>;

/** Generic world settings any task may put in `initialState` (the rest is the environment's own). */
export const WorldOptions = z.object({
  now: z.string().datetime({ offset: true }).optional(),
  schedule: z.array(ScheduledEvent).default([]),
  /** Tools whose first call fails with a transient error (retrying succeeds). */
  flakyTools: z.array(z.string()).default([]),
});
