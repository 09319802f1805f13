// Database images an episode starts from: the schema alone, or the schema plus a task's fixed
// fixtures (`seedFixed`). Opening a copy of an image costs a fraction of creating the tables and
// inserting the rows again. Images hold only what a task's own content determines, never anything
// an episode wrote, and every episode gets its own copy.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { createSeededClock, DefectError, errorMessage } from '../core/index.ts';
import type { EnvironmentDefinition, FixedSeedContext } from './define.ts';
import { createIdGenerator } from './ids.ts';
import { stateVersion, tableShapes, type TableShape } from './state.ts';

/** How many bytes of task images a process keeps; the least recently used go first beyond it. */
const TASK_IMAGE_BUDGET = 64 * 1024 * 1024;

/** A database image, its tables at its schema version, and the ids its fixed seed used up. */
export interface Image {
  bytes: Buffer;
  tables: { schema: number; shapes: TableShape[] };
  ids: Record<string, number>;
}

function imageOf(db: Database.Database, ids: Record<string, number> = {}): Image {
  return { bytes: db.serialize(), tables: { schema: stateVersion(db).schema, shapes: tableShapes(db) }, ids };
}

const schemaImages = new Map<string, Image>();

function schemaImage(schema: string): Image {
  let image = schemaImages.get(schema);
  if (!image) {
    const template = new Database(':memory:');
    try {
      template.exec(schema);
      image = imageOf(template);
    } finally {
      template.close();
    }
    schemaImages.set(schema, image);
  }
  return image;
}

/** The tables of a fresh world of `definition`, as its schema creates them. */
export function schemaTables(definition: EnvironmentDefinition): readonly TableShape[] {
  return schemaImage(definition.schema).tables.shapes;
}

/** Images by key, least recently used dropped first once they pass `maxBytes`. */
export class ImageCache<T extends { bytes: Buffer } = Image> {
  private readonly images = new Map<string, T>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): T | undefined {
    const image = this.images.get(key);
    if (image) {
      this.images.delete(key);
      this.images.set(key, image);
    }
    return image;
  }

  set(key: string, image: T): void {
    const old = this.images.get(key);
    if (old) this.bytes -= old.bytes.length;
    this.images.delete(key);
    this.images.set(key, image);
    this.bytes += image.bytes.length;
    for (const [k, v] of this.images) {
      if (this.bytes <= this.maxBytes || k === key) break;
      this.images.delete(k);
      this.bytes -= v.bytes.length;
    }
  }

  get size(): number {
    return this.images.size;
  }
}

const taskImages = new ImageCache(TASK_IMAGE_BUDGET);
const definitionKeys = new WeakMap<EnvironmentDefinition, number>();
let definitionCount = 0;

/** Distinguishes definitions that share a name (tests define their own). */
function definitionKey(definition: EnvironmentDefinition): number {
  let key = definitionKeys.get(definition);
  if (key === undefined) definitionKeys.set(definition, (key = definitionCount++));
  return key;
}

interface Watched {
  statements: Map<string, Database.Statement>;
  /** Transaction control compiled once per connection: a tool call opens and releases a savepoint every time. */
  control: Map<string, Database.Statement>;
  /** The connection's own prepare, which no write watch sees. */
  compile: (sql: string) => Database.Statement;
  /** Called once, before the first statement that may write is handed out or any SQL is executed. */
  beforeWrite: (() => void) | undefined;
}

const watched = new WeakMap<Database.Database, Watched>();

/**
 * Tools and seeds call `db.prepare(sql)` freely; compiling the same SQL on every call would cost
 * more than running it, so each database hands back the statement it compiled before. Every
 * statement passes through here, which is also where a first write can be seen coming
 * (`beforeFirstWrite`).
 */
export function withStatementCache(db: Database.Database): Database.Database {
  const compile = db.prepare.bind(db);
  const exec = db.exec.bind(db);
  const state: Watched = { statements: new Map(), control: new Map(), compile, beforeWrite: undefined };
  watched.set(db, state);
  db.prepare = ((sql: string) => {
    let statement = state.statements.get(sql);
    if (!statement) {
      statement = compile(sql);
      state.statements.set(sql, statement);
    }
    if (state.beforeWrite && !statement.readonly) notifyWrite(state);
    return statement;
  }) as typeof db.prepare;
  db.exec = ((sql: string) => {
    // Arbitrary SQL: any of it may write.
    if (state.beforeWrite) notifyWrite(state);
    return exec(sql);
  }) as typeof db.exec;
  return db;
}

function notifyWrite(state: Watched): void {
  const callback = state.beforeWrite;
  state.beforeWrite = undefined;
  callback?.();
}

/**
 * Calls `callback` once, just before the first statement of `db` that may write is handed out
 * (SQLite says which statements only read) or any SQL goes through `db.exec`: the world as it
 * stands can be pictured then, and not at all while an episode only reads. A statement compiled
 * before this call and kept is not seen: callers check the state version as well.
 */
export function beforeFirstWrite(db: Database.Database, callback: () => void): void {
  const state = watched.get(db);
  if (!state) throw new Error('beforeFirstWrite: the database has no statement cache to watch (open it with openEpisodeDatabase or withStatementCache)');
  state.beforeWrite = callback;
}

/** Runs transaction control (SAVEPOINT, RELEASE, ROLLBACK TO …) that writes nothing, without counting as a write. */
export function execControl(db: Database.Database, sql: string): void {
  const state = watched.get(db);
  if (!state) {
    db.exec(sql);
    return;
  }
  let statement = state.control.get(sql);
  if (!statement) {
    statement = state.compile(sql);
    state.control.set(sql, statement);
  }
  statement.run();
}

/**
 * Lets go of the statements a database compiled so far (those still in use are compiled again on
 * their next use). A seed's inserts and the initial dump's reads would otherwise hold SQLite's
 * compiled programs, ~5 KB each, for the whole episode.
 */
export function forgetStatements(db: Database.Database): void {
  watched.get(db)?.statements.clear();
}

interface EpisodeStart {
  task: FixedSeedContext['task'];
  /** Where the episode's clock starts (the task's `now`, else the definition's start time). */
  start: string;
}

function taskImage(definition: EnvironmentDefinition, { task, start }: EpisodeStart, seedFixed: NonNullable<EnvironmentDefinition['seedFixed']>): Image {
  // The key is everything seedFixed may read (the start time comes from the task or the definition), so equal keys give equal worlds.
  const key = `${definitionKey(definition)}\0${task.id}\0${JSON.stringify(task.initialState)}`;
  let image = taskImages.get(key);
  if (!image) {
    const db = withStatementCache(new Database(schemaImage(definition.schema).bytes));
    try {
      const ids = createIdGenerator();
      db.exec('BEGIN');
      try {
        seedFixed({ db, task: { id: task.id, initialState: task.initialState }, ids, clock: createSeededClock(start) });
      } catch (error) {
        throw new DefectError('environment', `${definition.name}: seeding the fixed part of task ${task.id} failed: ${errorMessage(error)}`, { cause: error });
      }
      db.exec('COMMIT');
      image = imageOf(db, ids.counters());
    } finally {
      db.close();
    }
    taskImages.set(key, image);
  }
  return image;
}

/**
 * A fresh database for one episode: the schema, plus the task's fixed part when the definition
 * has one; with the tables of the image it was copied from and the ids its episode continues from.
 */
export function openEpisodeDatabase(definition: EnvironmentDefinition, episode: EpisodeStart): OpenedImage {
  return openImage(definition.seedFixed ? taskImage(definition, episode, definition.seedFixed) : schemaImage(definition.schema));
}

export interface OpenedImage {
  db: Database.Database;
  tables: Image['tables'];
  ids: Image['ids'];
}

/** A fresh copy of `image` with a statement cache. */
export function openImage(image: Image): OpenedImage {
  // No journal_mode pragma: an in-memory database keeps its journal in memory whatever it is
  // told (OFF is ignored), which is what lets a failed tool call roll back.
  const db = new Database(image.bytes);
  return { db: withStatementCache(db), tables: image.tables, ids: image.ids };
}

/** How many bytes of seeded worlds a process keeps; the least recently used go first beyond it. */
const SEEDED_WORLD_BUDGET = 64 * 1024 * 1024;
/**
 * How many worlds seeded once are remembered, so a second episode of one of them keeps it. A
 * group's rollouts start together, so a short memory is enough, and its keys stay a few KB.
 */
const WORLDS_REMEMBERED = 1024;

/** A world as `seed` left it: its database and tables, and where its ids, random stream and clock stood. */
export interface SeededWorld extends Image {
  rng: number;
  clockMs: number;
}

const seededWorlds = new ImageCache<SeededWorld>(SEEDED_WORLD_BUDGET);
const worldsSeen = new Set<string>();
const stateTexts = new WeakMap<object, string>();

/** How often a seeded world was kept and reused in this process (tests read it). */
export const seededWorldCounts = { kept: 0, reused: 0 };

/**
 * Names the world `seed` makes for an episode, where the definition declares its seed a function
 * of the task and the seed alone (`seededWorlds`); undefined otherwise. The seed reads the task's
 * id and `initialState` and draws from a stream seeded by the seed and the task's id.
 */
export function seededWorldKey(definition: EnvironmentDefinition, { task, start }: EpisodeStart, seed: number): string | undefined {
  if (!definition.seededWorlds || definition.sandbox) return undefined;
  const state = task.initialState;
  let text = typeof state === 'object' && state !== null ? stateTexts.get(state) : undefined;
  if (text === undefined) {
    text = JSON.stringify(state) ?? '';
    if (typeof state === 'object' && state !== null) stateTexts.set(state, text);
  }
  return createHash('sha256').update(`${definitionKey(definition)}\0${task.id}\0${start}\0${seed}\0`).update(text).digest('base64');
}

/** The world kept under `key`, if an earlier episode left one. */
export function keptWorld(key: string): SeededWorld | undefined {
  const world = seededWorlds.get(key);
  if (world) seededWorldCounts.reused++;
  return world;
}

/**
 * Offers the world an episode just seeded. The first episode of a world is only remembered and
 * the second keeps it, so runs that never repeat a world (groups of one) pay a hash and no copy;
 * a group's rollouts, retries and validate's plays repeat theirs.
 */
export function offerSeededWorld(key: string, db: Database.Database, after: { ids: Record<string, number>; rng: number; clockMs: number }): void {
  if (!worldsSeen.has(key)) {
    worldsSeen.add(key);
    if (worldsSeen.size > WORLDS_REMEMBERED) worldsSeen.delete(worldsSeen.values().next().value!);
    return;
  }
  seededWorlds.set(key, { ...imageOf(db, after.ids), rng: after.rng, clockMs: after.clockMs });
  seededWorldCounts.kept++;
}
