import { deserialize, serialize } from 'node:v8';
import { z } from 'zod';
import {
  createRng,
  createSeededClock,
  DefectError,
  describeZodIssues,
  errorMessage,
  InfraError,
  InputError,
  rngPosition,
  type CheckResult,
  type Clock,
  type Environment,
  type FinalTrajectory,
  type FollowUpOptions,
  type Judge,
  type JsonObject,
  type JsonValue,
  type ResetOptions,
  type ResetResult,
  type Sandbox,
  type Task,
  type ToolInvocation,
  type ToolOutcome,
  type ToolSpec,
  type VerifierOutcome,
} from '../core/index.ts';
import { createSandbox, type SandboxBackend } from '../sandbox/index.ts';
import {
  ToolError,
  TransientToolError,
  VerifierSpec,
  WorldOptions,
  type CheckOutput,
  type EnvironmentDefinition,
  type EpisodeContext,
  type ScheduledEvent,
  type ToolReturn,
} from './define.ts';
import { genericChecks } from './checks.ts';
import { interopChecks } from './interop/checks.ts';
import { createIdGenerator } from './ids.ts';
import { beforeFirstWrite, execControl, forgetStatements, keptWorld, offerSeededWorld, openEpisodeDatabase, openImage, seededWorldKey } from './images.ts';
import { parseTaskPart } from './parsed.ts';
import { initialStateProblems } from './task-check.ts';
import { describeUnknownKeys, unknownKeys } from './unknown-keys.ts';
import { dumpTables, stateVersion, tableShapes, type StateVersion, type TableShape } from './state.ts';
import type { UserSimulator } from './users/simulator.ts';

export interface InstantiateOptions {
  sandbox?: SandboxBackend;
  /** For LLM-judge checks. */
  judge?: Judge;
  /** Plays the simulated user of tasks that have one (default: the scripted user). */
  user?: UserSimulator;
}

/** JSON Schema for a tool's zod input, in the shape model APIs accept. */
export function toolParametersSchema(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json as JsonObject;
}

function render(value: ToolReturn): Extract<ToolOutcome, { ok: true }> {
  if (typeof value === 'string') return { ok: true, content: value };
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.content === 'string') {
    const v = value as { content: string; data?: JsonValue; endsEpisode?: boolean; answer?: string };
    const out: Extract<ToolOutcome, { ok: true }> = { ok: true, content: v.content };
    if (v.data !== undefined) out.data = v.data;
    if (v.endsEpisode) out.endsEpisode = true;
    if (v.answer !== undefined) out.answer = v.answer;
    return out;
  }
  return { ok: true, content: JSON.stringify(value), data: value as JsonValue };
}

const sameVersion = (a: StateVersion, b: StateVersion): boolean => a.changes === b.changes && a.schema === b.schema;
/**
 * V8's serialiser rather than JSON: exact for every value a table may hold (blobs, infinities), and
 * half the memory where text has characters beyond Latin-1 (which make a JSON string two bytes a
 * character); off the heap, so the collector never walks it.
 */
const freeze = (snapshot: JsonObject): Buffer => serialize(snapshot);
const thaw = (frozen: Buffer): JsonObject => deserialize(frozen) as JsonObject;

/**
 * Lets go of what reading the whole world left behind: compiled statements, and the page cache.
 * Seeding (or picturing) read every page through SQLite's cache while the database keeps its own
 * copy, so the cached pages are a second one held for the whole episode: ~90 KB of a live mail
 * episode, and that much less fresh memory to fault in when a thousand start at once. Tools read
 * back the few pages they touch.
 */
function releaseCaches(db: EpisodeContext['db']): void {
  forgetStatements(db);
  execControl(db, 'PRAGMA shrink_memory');
}

const toolSpecCache = new WeakMap<EnvironmentDefinition, ToolSpec[]>();

/** One live episode of a defined environment. Not safe for two episodes at once: make one per rollout. */
class DefinedEnvironment implements Environment {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  private ctx: EpisodeContext | undefined;
  /**
   * The state right after reset, kept serialised: as objects, a world's rows (over a thousand for a
   * mail episode, tens of thousands for workplace) would be marked by every garbage collection for
   * as long as the episode lives, which for an episode waiting on a model through many collections
   * costs more than thawing it once at verify (mail ~0.2 ms each way, workplace ~1.5 ms).
   */
  private seeded: { version: StateVersion; tables: Buffer | undefined; shapes: TableShape[]; extra: Buffer | undefined } | undefined;
  /** The last table dump after reset and the state version it shows: reused while nothing has been written since. */
  private dump: { version: StateVersion; tables: JsonObject } | undefined;
  /** The episode's tables while its schema is the one it started with. */
  private tables: { schema: number; shapes: TableShape[] } | undefined;
  private schedule: ScheduledEvent[] = [];
  private flaky = new Set<string>();
  private calls = 0;
  private startMs = 0;

  constructor(
    private readonly definition: EnvironmentDefinition,
    private readonly options: InstantiateOptions,
  ) {
    this.name = definition.name;
  }

  get clock(): Clock {
    return this.episode().clock;
  }

  private episode(): EpisodeContext {
    if (!this.ctx) throw new Error(`environment ${this.name}: call reset() before using it`);
    return this.ctx;
  }

  async reset(task: Task, options: ResetOptions): Promise<ResetResult> {
    await this.closeEpisode();
    const def = this.definition;
    if (task.env !== def.name) throw new DefectError('gauntlet', `task ${task.id} belongs to env "${task.env}", not "${def.name}"`);
    const world = parseTaskPart(WorldOptions, task.initialState);
    if (!world.success) throw new DefectError('environment', `task ${task.id}: initialState\n${describeZodIssues(world.error.issues, 'initialState')}`);
    // Loaders refuse these up front; a task made in code that skipped them must not lose a misspelt fixture.
    const stateProblems = initialStateProblems(def, task.initialState);
    if (stateProblems.length > 0) throw new DefectError('environment', `task ${task.id}: ${stateProblems.join('\n')}`);
    const start = world.data.now ?? def.startTime;
    const worldKey = seededWorldKey(def, { task, start }, options.seed);
    const kept = worldKey === undefined ? undefined : keptWorld(worldKey);
    const { db, tables, ids } = kept ? openImage(kept) : openEpisodeDatabase(def, { task, start });
    this.tables = tables;
    const clock = createSeededClock(start);
    let sandbox: Sandbox | undefined;
    if (def.sandbox) {
      try {
        sandbox = await createSandbox({ backend: this.options.sandbox ?? 'auto', ...def.sandboxOptions?.(task) });
      } catch (error) {
        db.close();
        // A sandbox set up wrongly (a missing variable, a bad image name) fails every attempt alike.
        throw new InfraError('sandbox', `could not start a sandbox: ${errorMessage(error)}`, { cause: error, retryable: !(error instanceof InputError) });
      }
    }
    const idGenerator = createIdGenerator(ids);
    this.ctx = {
      db,
      clock,
      ids: idGenerator,
      rng: createRng(kept ? kept.rng : `${options.seed}:${task.id}`),
      task,
      sandbox,
      signal: options.signal ?? new AbortController().signal,
      ...(this.options.user ? { user: this.options.user } : {}),
    };
    this.startMs = clock.now().getTime();
    this.schedule = [...world.data.schedule];
    this.flaky = new Set(world.data.flakyTools);
    this.calls = 0;
    try {
      if (kept) {
        clock.advance(kept.clockMs - this.startMs);
        def.seededWorlds?.restore?.(this.ctx);
      } else {
        // One transaction for the whole seed: hundreds of inserts, one commit.
        db.exec('BEGIN');
        await def.seed(this.ctx);
        db.exec('COMMIT');
        if (worldKey !== undefined) offerSeededWorld(worldKey, db, { ids: idGenerator.counters(), rng: rngPosition(this.ctx.rng), clockMs: clock.now().getTime() });
      }
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      if (error instanceof InfraError || error instanceof DefectError) throw error;
      throw new DefectError('environment', `${def.name}: seeding task ${task.id} failed: ${errorMessage(error)}`, { cause: error });
    }
    const version = stateVersion(db);
    const extra = def.extraSnapshot ? await def.extraSnapshot(this.ctx) : undefined;
    const shapes = tables.schema === version.schema ? tables.shapes : tableShapes(db);
    // The seeded tables are pictured later, just before the first write (`captureSeeded`).
    this.seeded = { version, tables: undefined, shapes, extra: extra === undefined ? undefined : freeze(extra) };
    releaseCaches(db);
    beforeFirstWrite(db, () => this.captureSeeded());
    return {};
  }

  /**
   * Pictures the seeded tables just before the first statement that may write (a tool call, a
   * world event, a user turn), or at a snapshot, not in reset: a start is on the critical path of
   * a run (a thousand rollouts starting at once wait for each other's resets), and an episode that
   * only reads never needs a second picture of its world (verify's `initial` is then its `final`).
   */
  private captureSeeded(): void {
    const seeded = this.seeded;
    if (!seeded || seeded.tables) return;
    const { db } = this.episode();
    this.assertUnwritten(seeded);
    seeded.tables = freeze(dumpTables(db, seeded.shapes));
    releaseCaches(db);
  }

  /** A world written without the database handing out a writing statement cannot be pictured as seeded: a defect, never a wrong `initial`. */
  private assertUnwritten(seeded: NonNullable<typeof this.seeded>): void {
    if (!sameVersion(seeded.version, stateVersion(this.episode().db))) {
      throw new DefectError('environment', `${this.name}: the world was written after reset by a statement kept from before it, so its seeded state could not be pictured (call db.prepare where the statement is used: the episode's database hands back the one it compiled)`);
    }
  }

  /** The seeded tables: thawed from their picture, or, while nothing has been written since reset, the tables as they stand. */
  private seededTables(): JsonObject {
    const seeded = this.seeded;
    if (!seeded) return {};
    if (seeded.tables) return thaw(seeded.tables);
    this.assertUnwritten(seeded);
    return dumpTables(this.episode().db, seeded.shapes);
  }

  tools(): ToolSpec[] {
    // Converting zod to JSON Schema is costly; every episode of a definition offers the same tools.
    let specs = toolSpecCache.get(this.definition);
    if (!specs) {
      specs = Object.entries(this.definition.tools).map(([name, tool]) => ({ name, description: tool.description, parameters: toolParametersSchema(tool.input) }));
      toolSpecCache.set(this.definition, specs);
    }
    return specs;
  }

  async call(tool: string, args: unknown, options: { signal: AbortSignal }): Promise<ToolOutcome> {
    const ctx = this.episode();
    const definition = this.definition.tools[tool];
    if (!definition) {
      return { ok: false, kind: 'unknown_tool', error: `unknown tool "${tool}"; available: ${Object.keys(this.definition.tools).join(', ')}` };
    }
    const parsed = definition.input.safeParse(args ?? {});
    // A misspelt optional argument would be dropped and the call would look done: refuse it, naming the arguments.
    const unknown = describeUnknownKeys(unknownKeys(definition.input, args ?? {}));
    if (!parsed.success || unknown.length > 0) {
      const issues = parsed.success ? [] : parsed.error.issues.filter((i) => i.code !== 'unrecognized_keys' || unknown.length === 0);
      const lines = [...(issues.length > 0 ? [describeZodIssues(issues)] : []), ...unknown];
      return { ok: false, kind: 'invalid_arguments', error: `invalid arguments for ${tool}:\n${lines.join('\n')}` };
    }
    this.calls += 1;
    if (this.flaky.delete(tool)) {
      return { ok: false, kind: 'transient', error: `${tool}: service temporarily unavailable (try again)` };
    }
    const episodeCtx: EpisodeContext = { ...ctx, signal: options.signal };
    let outcome: ToolOutcome;
    // Each call is atomic: a tool that throws halfway leaves no partial change behind.
    execControl(ctx.db, 'SAVEPOINT tool_call');
    try {
      const value = await definition.run(parsed.data, episodeCtx);
      execControl(ctx.db, 'RELEASE tool_call');
      outcome = render(value);
      if (definition.endsEpisode) outcome.endsEpisode = true;
    } catch (error) {
      execControl(ctx.db, 'ROLLBACK TO tool_call');
      execControl(ctx.db, 'RELEASE tool_call');
      if (error instanceof ToolError) outcome = { ok: false, kind: 'tool_error', error: error.message };
      else if (error instanceof TransientToolError) outcome = { ok: false, kind: 'transient', error: error.message };
      else if (error instanceof InfraError || error instanceof DefectError) throw error;
      else throw new DefectError('environment', `${this.name}.${tool} crashed: ${errorMessage(error)}`, { cause: error });
    }
    ctx.clock.advance(this.definition.stepMs ?? 30_000);
    await this.fireDueEvents(ctx);
    return outcome;
  }

  private async fireDueEvents(ctx: EpisodeContext): Promise<void> {
    if (this.schedule.length === 0) return;
    const elapsed = ctx.clock.now().getTime() - this.startMs;
    const due = this.schedule.filter((e) => (e.atMs !== undefined ? e.atMs <= elapsed : (e.afterCalls ?? 0) <= this.calls));
    if (due.length === 0) return;
    this.schedule = this.schedule.filter((e) => !due.includes(e));
    for (const event of due) {
      const definition = this.definition.events?.[event.event];
      if (!definition) throw new DefectError('environment', `task ${ctx.task.id}: unknown world event "${event.event}"`);
      const params = definition.params.safeParse(event.params);
      if (!params.success) throw new DefectError('environment', `task ${ctx.task.id}: event ${event.event}\n${describeZodIssues(params.error.issues, 'params')}`);
      try {
        await definition.apply(params.data, ctx);
      } catch (error) {
        if (error instanceof InfraError || error instanceof DefectError) throw error;
        throw new DefectError('environment', `${this.name}: world event ${event.event} crashed: ${errorMessage(error)}`, { cause: error });
      }
    }
  }

  /** Snapshots may share row arrays with an earlier one when no write happened in between: they are read-only. */
  async snapshot(): Promise<JsonObject> {
    this.captureSeeded();
    return this.withExtra(this.currentTables());
  }

  /**
   * The tables as they stand. While nothing has been written since reset those are the seeded
   * tables: `seededTables` when the caller has read them already, else a fresh thaw of the picture.
   */
  private currentTables(seededTables?: JsonObject): JsonObject {
    const ctx = this.episode();
    const version = stateVersion(ctx.db);
    if (this.seeded && sameVersion(this.seeded.version, version)) {
      if (seededTables) return seededTables;
      if (this.seeded.tables) return thaw(this.seeded.tables);
    }
    if (!this.dump || !sameVersion(this.dump.version, version)) {
      const shapes = this.tables?.schema === version.schema ? this.tables.shapes : tableShapes(ctx.db);
      this.dump = { version, tables: dumpTables(ctx.db, shapes) };
    }
    return this.dump.tables;
  }

  private async withExtra(tables: JsonObject): Promise<JsonObject> {
    if (!this.definition.extraSnapshot) return { ...tables };
    return { ...tables, ...(await this.definition.extraSnapshot(this.episode())) };
  }

  async verify(final: FinalTrajectory): Promise<VerifierOutcome> {
    const ctx = this.episode();
    const spec = parseTaskPart(VerifierSpec, ctx.task.verifier);
    if (!spec.success) throw new DefectError('environment', `task ${ctx.task.id}: verifier\n${describeZodIssues(spec.error.issues, 'verifier')}`);
    const seededTables = this.seededTables();
    const initial = this.seeded?.extra ? { ...seededTables, ...thaw(this.seeded.extra) } : { ...seededTables };
    const now = await this.withExtra(this.currentTables(seededTables));
    const verifyCtx = { ...ctx, initial, final: now, answer: final.answer, messages: final.messages ?? [], judge: this.options.judge };
    const results: CheckResult[] = [];
    // Own keys only: a term may be called `constructor`, and `__proto__` must stay a plain key.
    const rewards: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [i, entry] of spec.data.checks.entries()) {
      const { check, ...rawParams } = entry;
      const definition = this.definition.checks[check] ?? genericChecks[check] ?? interopChecks[check];
      if (!definition) throw new DefectError('environment', `task ${ctx.task.id}: verifier.checks.${i}: unknown check "${check}"`);
      const params = parseTaskPart(definition.params, rawParams, entry);
      if (!params.success) throw new DefectError('environment', `task ${ctx.task.id}: verifier.checks.${i} (${check})\n${describeZodIssues(params.error.issues)}`);
      let out: CheckOutput;
      try {
        out = await definition.run(params.data, verifyCtx);
      } catch (error) {
        // A judge that fails is infrastructure; any other exception in a check is a bug in it.
        if (error instanceof InfraError || error instanceof DefectError) throw error;
        throw new DefectError('environment', `${this.name}: check ${check} (verifier.checks.${i} of ${ctx.task.id}) crashed: ${errorMessage(error)}`, { cause: error });
      }
      const label = typeof rawParams.name === 'string' ? rawParams.name : check;
      results.push({ name: label, kind: definition.kind, passed: out.passed, ...(out.detail ? { detail: out.detail } : {}) });
      for (const [key, value] of Object.entries(out.rewards ?? {})) {
        if (Object.hasOwn(rewards, key)) throw new DefectError('environment', `task ${ctx.task.id}: verifier.checks.${i} (${check}) reports reward "${key}" a second time`);
        rewards[key] = value;
      }
    }
    const passedCount = results.filter((r) => r.passed).length;
    const passed = passedCount === results.length;
    return { passed, score: passed ? 1 : passedCount / results.length, checks: results, ...(Object.keys(rewards).length > 0 ? { rewards: Object.fromEntries(Object.entries(rewards)) } : {}) };
  }

  async followUp(answer: string, answered: number, options: FollowUpOptions = {}): Promise<string | null> {
    if (!this.definition.followUp) return null;
    // The reset's signal knows nothing of the rollout's deadline: a user that hangs would hold the turn past it.
    const ctx = options.signal ? { ...this.episode(), signal: options.signal } : this.episode();
    try {
      return await this.definition.followUp(ctx, answer, answered);
    } catch (error) {
      if (error instanceof InfraError || error instanceof DefectError) throw error;
      throw new DefectError('environment', `${this.name}: the follow-up user turn crashed: ${errorMessage(error)}`, { cause: error });
    }
  }

  async destructiveActions(): Promise<ToolInvocation[]> {
    return this.definition.destructive(this.episode());
  }

  private async closeEpisode(): Promise<void> {
    const ctx = this.ctx;
    this.ctx = undefined;
    this.dump = undefined;
    this.seeded = undefined;
    this.tables = undefined;
    if (!ctx) return;
    ctx.db.close();
    await ctx.sandbox?.close();
  }

  async close(): Promise<void> {
    await this.closeEpisode();
  }
}

export function instantiate(definition: EnvironmentDefinition, options: InstantiateOptions = {}): Environment {
  return new DefinedEnvironment(definition, options);
}
