// What a reward is made of: named terms, each with a weight, read from YAML/JSON and validated
// term by term. The names are a closed set (with `verifier.<key>`, `detector.<category>` and
// `rubric.<label>` families); anything else is an input error that lists what is accepted.
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { DETECTION_CATEGORIES, DetectionCategory, errorMessage, InputError, parseInput, parseInputText, readInputFile, Severity, type JsonObject } from '../core/index.ts';
import { MODEL_SPEC_FORMS, parseModelSpec } from '../model/index.ts';
import { loadRubric, Rubric } from './rubric.ts';

const weight = z.number({ error: 'a finite number' });

const Plain = z.strictObject({ weight });

/** Per-term settings, by kind. Every schema is strict: a misspelt setting is an error, not ignored. */
const TermSchemas = {
  /** 1 when the verifier passed, else 0; or the verifier's partial score with `use: score`. */
  outcome: z.strictObject({ weight, use: z.enum(['passed', 'score']).default('passed') }),
  /** The verifier's fraction of checks passed (partial credit). */
  verifier_checks: Plain,
  /** A named reward the verifier produced (Harbor's reward.json). `missing` stands in when the verifier did not produce it. */
  verifier: z.strictObject({ weight, missing: z.number({ error: 'a finite number' }).optional() }),
  tool_errors: Plain,
  repeated_calls: Plain,
  useless_calls: Plain,
  turns: Plain,
  /** The agent's working time in seconds. */
  duration: Plain,
  /** Rule-detector flags of one category at or above `minSeverity`; `gate` zeroes the total when any is found. */
  detector: z.strictObject({ weight, gate: z.boolean().default(false), minSeverity: Severity.default('low') }),
  /** A rubric graded `samples` times by its own judge model, or by the run's (`--judge`) when it names none. */
  rubric: z.strictObject({
    weight,
    rubric: Rubric,
    /** A model spec, as `--judge` takes (`openai:http://…/v1#model`); checked like one where the config is read. */
    judge: z.string().trim().min(1, 'a model spec').optional(),
    samples: z.number().int().min(1).max(32).default(3),
    /** Sampling temperature of the judge; above 0 so that samples are independent draws. */
    temperature: z.number().min(0).max(2).default(1),
    /** Extra tries per sample after a reply that is not a valid grade; then the grade is an infra error. */
    maxRetries: z.number().int().min(0).max(5).default(2),
    /** Longest transcript sent to the judge, in characters. */
    maxChars: z.number().int().min(1_000).default(120_000),
  }),
} as const;

type Kind = keyof typeof TermSchemas;
type SpecOf<K extends Kind> = z.infer<(typeof TermSchemas)[K]>;

export type RewardTermSpec = {
  [K in Kind]: { name: string; kind: K; spec: SpecOf<K> } & (K extends 'verifier' ? { key: string } : K extends 'detector' ? { category: DetectionCategory } : unknown);
}[Kind];

export interface RewardConfig {
  version: 1;
  /** Where the config came from when the run gave none (`environment mail`); absent for the run's own. */
  source?: string;
  /** In the order written: the order the terms are stored in. */
  terms: RewardTermSpec[];
}

export const TERM_NAMES = [
  'outcome',
  'verifier_checks',
  'verifier.<key>',
  'tool_errors',
  'repeated_calls',
  'useless_calls',
  'turns',
  'duration',
  'detector.<category>',
  'rubric',
  'rubric.<label>',
] as const;

const VALID = `one of ${TERM_NAMES.join(', ')} (categories: ${DETECTION_CATEGORIES.join(', ')})`;

function kindOf(name: string, where: string): { kind: Kind; key?: string; category?: DetectionCategory } {
  const dot = name.indexOf('.');
  const head = dot === -1 ? name : name.slice(0, dot);
  const tail = dot === -1 ? '' : name.slice(dot + 1);
  const unknown = (problem: string) => new InputError(where, problem, VALID);
  if (dot === -1) {
    // Own keys only: `toString` or `constructor` would otherwise find Object's methods as schemas.
    if (Object.hasOwn(TermSchemas, head) && head !== 'verifier' && head !== 'detector') return { kind: head as Kind };
    throw unknown(head === 'verifier' || head === 'detector' ? `"${name}" needs a ${head === 'verifier' ? 'key' : 'category'} after a dot` : `unknown reward term "${name}"`);
  }
  if (!tail) throw unknown(`"${name}" ends in a dot`);
  if (head === 'verifier') return { kind: 'verifier', key: tail };
  if (head === 'rubric') {
    if (!/^[A-Za-z0-9_-]+$/.test(tail)) throw unknown(`"${name}": a rubric label is letters, digits, - and _`);
    return { kind: 'rubric' };
  }
  if (head === 'detector') {
    const category = DetectionCategory.safeParse(tail);
    if (!category.success) throw new InputError(where, `unknown detector category "${tail}"`, `detector.<category> with a category among ${DETECTION_CATEGORIES.join(', ')}`);
    return { kind: 'detector', category: category.data };
  }
  throw unknown(`unknown reward term "${name}"`);
}

const Shape = z.strictObject({
  version: z.literal(1, { error: 'version 1 (or leave it out)' }).default(1),
  source: z.string().min(1).optional(),
  terms: z.record(z.string(), z.unknown()),
});

/**
 * Validates a reward config (already parsed from YAML/JSON). `where` names its origin (a file, or
 * `reward` inside a run config); errors point at `<where>: terms.<name>[.field]`.
 */
export function parseRewardConfig(value: unknown, where: string): RewardConfig {
  const shape = parseInput(Shape, value, where);
  const names = Object.keys(shape.terms);
  // A record drops a `__proto__` key (JSON.parse makes it an own key): said, not silently left out.
  const given = (value as { terms: object }).terms;
  if (Object.hasOwn(given, '__proto__')) throw new InputError(`${where}: terms.__proto__`, 'unknown reward term "__proto__"', VALID);
  if (names.length === 0) throw new InputError(`${where}: terms`, 'no terms', `at least one term, ${VALID}`);
  const terms = names.map((name): RewardTermSpec => {
    const at = `${where}: terms.${name}`;
    const { kind, key, category } = kindOf(name, at);
    const raw = shape.terms[name];
    if (kind === 'rubric' && raw !== null && typeof raw === 'object' && typeof (raw as { rubric?: unknown }).rubric === 'string') {
      throw new InputError(`${at}.rubric`, 'a path here is read only from a reward file (--reward FILE)', 'the rubric itself (id, version, criteria)');
    }
    const spec: unknown = parseInput(TermSchemas[kind] as z.ZodType, raw, at);
    if (kind === 'rubric') checkJudge((spec as SpecOf<'rubric'>).judge, `${at}.judge`);
    // The schema was picked by `kind`, so `spec` has that kind's shape.
    return { name, kind, spec, ...(key !== undefined ? { key } : {}), ...(category !== undefined ? { category } : {}) } as RewardTermSpec;
  });
  // Each weight may be finite and their sum still not: the total of every rollout would then be an
  // error found only after the rollout ran. Values of outcome, checks and rubrics are on [0, 1].
  if (!Number.isFinite(terms.reduce((s, t) => s + Math.abs(t.spec.weight), 0))) {
    throw new InputError(`${where}: terms`, `the weights' magnitudes add up past the largest number (${terms.map((t) => `${t.name}: ${t.spec.weight}`).join(', ')})`, 'weights whose sum of magnitudes is a finite number');
  }
  return { version: 1, ...(shape.source !== undefined ? { source: shape.source } : {}), terms };
}

/**
 * A rubric's own judge must be a spec the run could build: a known kind, and no credentials in
 * its URL (the spec is stored with the run; the parser's message shows the URL redacted).
 */
function checkJudge(spec: string | undefined, where: string): void {
  if (spec === undefined) return;
  try {
    parseModelSpec(spec);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(where, error.problem, error.expected ?? MODEL_SPEC_FORMS);
    throw error;
  }
}

/** The config as stored with a run: every default filled in, rubrics inline. */
export function rewardConfigJson(config: RewardConfig): JsonObject {
  const terms = Object.fromEntries(config.terms.map((t) => [t.name, t.spec]));
  return JSON.parse(JSON.stringify({ version: config.version, ...(config.source !== undefined ? { source: config.source } : {}), terms })) as JsonObject;
}

/**
 * What a run uses when no reward is configured: today's scoring. The verifier's verdict is the
 * whole reward (1 or 0) and its partial credit is kept as a weight-0 term, visible but inert.
 */
export const DEFAULT_REWARD_CONFIG: RewardConfig = parseRewardConfig({ terms: { outcome: { weight: 1 }, verifier_checks: { weight: 0 } } }, 'default reward');

/**
 * The reward of a run that gives none: the default its tasks' environments declare, with `source`
 * naming them so the stored run says where it came from; undefined when none declares one (the
 * built-in default). Environments that disagree (different defaults, or one declares a default and
 * another does not) have no one reward: `rewardsByEnvironment` gives each its own.
 */
export function environmentRewardConfig(environments: readonly { name: string; reward?: unknown }[]): RewardConfig | undefined {
  const declared = environments.filter((e) => e.reward !== undefined);
  if (declared.length === 0) return undefined;
  const configs = declared.map((e) => parseRewardConfig(e.reward, `environment ${e.name}: reward`));
  if (declared.length < environments.length || configs.some((c) => termsKey(c) !== termsKey(configs[0]!))) {
    const each = environments.map((e) => `${e.name}: ${e.reward === undefined ? 'the built-in default' : 'its own'}`).join('; ');
    throw new InputError('reward', `the run's environments have different default rewards (${each})`, 'a reward for the whole run (--reward FILE)');
  }
  return { ...configs[0]!, source: `environment ${declared.map((e) => e.name).join(', ')}` };
}

/** `source` of the built-in default where a run stores a reward per environment. */
export const BUILT_IN_REWARD_SOURCE = 'built-in default';

/**
 * The reward of each environment of a run that gives no reward of its own: `given[name]` (a
 * run's `rewards`, validated as `rewards.<name>`), else the default the environment declares,
 * else the built-in one. Undefined where nothing is given and the environments agree: the run then
 * has the one reward `environmentRewardConfig` names. A run mixing environments that disagree
 * scores each rollout by its own environment's reward, as each would alone.
 */
export function rewardsByEnvironment(environments: readonly { name: string; reward?: unknown }[], given?: Readonly<Record<string, unknown>>): Record<string, RewardConfig> | undefined {
  const names = new Set(environments.map((e) => e.name));
  for (const name of Object.keys(given ?? {})) {
    if (!names.has(name)) throw new InputError(`rewards.${name}`, `no task of the run is in environment "${name}"`, `rewards for the run's environments (${[...names].join(', ')})`);
  }
  const byName: Record<string, RewardConfig> = Object.create(null) as Record<string, RewardConfig>;
  for (const e of environments) {
    const own = given !== undefined && Object.hasOwn(given, e.name) ? given[e.name] : undefined;
    if (own !== undefined) byName[e.name] = parseRewardConfig(own, `rewards.${e.name}`);
    else if (e.reward !== undefined) byName[e.name] = { ...parseRewardConfig(e.reward, `environment ${e.name}: reward`), source: `environment ${e.name}` };
    else byName[e.name] = { ...DEFAULT_REWARD_CONFIG, source: BUILT_IN_REWARD_SOURCE };
  }
  if (given === undefined) {
    const keys = Object.values(byName).map(termsKey);
    if (keys.every((k) => k === keys[0])) return undefined;
  }
  return byName;
}

const termsKey = (c: RewardConfig) => JSON.stringify(rewardConfigJson({ version: c.version, terms: c.terms }));

/**
 * Reads a reward file (YAML or JSON). A rubric given as a path is read relative to the file and
 * put inline, so the stored run holds the rubric itself, not a path that may change.
 */
export function loadRewardConfig(path: string): RewardConfig {
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read the reward config: ${errorMessage(error)}`, 'a YAML or JSON file with `terms:`') });
  const { value } = parseInputText(text, path, { syntax: 'not valid YAML/JSON' });
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const terms = (value as { terms?: unknown }).terms;
    if (terms !== null && typeof terms === 'object' && !Array.isArray(terms)) {
      for (const spec of Object.values(terms)) {
        if (spec !== null && typeof spec === 'object' && typeof (spec as { rubric?: unknown }).rubric === 'string') {
          const target = spec as { rubric: unknown };
          target.rubric = loadRubric(resolve(dirname(path), target.rubric as string));
        }
      }
    }
  }
  return parseRewardConfig(value, path);
}

/**
 * What composing needs: the attempt's model calls (to rebuild the trajectory), the run's judge
 * (rubric terms naming none), and the judges rubric terms name themselves (distinct specs).
 */
export function needs(config: RewardConfig): { trajectory: boolean; judge: boolean; judges: string[] } {
  const rubrics = config.terms.filter((t) => t.kind === 'rubric');
  const judges = [...new Set(rubrics.flatMap((t) => (t.spec.judge === undefined ? [] : [t.spec.judge])))];
  return { judge: rubrics.some((t) => t.spec.judge === undefined), judges, trajectory: rubrics.length > 0 || config.terms.some((t) => t.kind === 'detector') };
}
