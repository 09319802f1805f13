// What a reward is made of: named terms, each with a weight, read from YAML/JSON and validated
// term by term. The names are a closed set (with `verifier.<key>`, `detector.<category>` and
// `rubric.<label>` families); anything else is an input error that lists what is accepted.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DETECTION_CATEGORIES, DetectionCategory, errorMessage, InputError, parseInput, Severity, type JsonObject } from '../core/index.ts';
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
  /** A rubric graded by the run's judge model, `samples` times. */
  rubric: z.strictObject({
    weight,
    rubric: Rubric,
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
    if (head in TermSchemas && head !== 'verifier' && head !== 'detector') return { kind: head as Kind };
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
  terms: z.record(z.string(), z.unknown()),
});

/**
 * Validates a reward config (already parsed from YAML/JSON). `where` names its origin (a file, or
 * `reward` inside a run config); errors point at `<where>: terms.<name>[.field]`.
 */
export function parseRewardConfig(value: unknown, where: string): RewardConfig {
  const shape = parseInput(Shape, value, where);
  const names = Object.keys(shape.terms);
  if (names.length === 0) throw new InputError(`${where}: terms`, 'no terms', `at least one term, ${VALID}`);
  const terms = names.map((name): RewardTermSpec => {
    const at = `${where}: terms.${name}`;
    const { kind, key, category } = kindOf(name, at);
    const raw = shape.terms[name];
    if (kind === 'rubric' && raw !== null && typeof raw === 'object' && typeof (raw as { rubric?: unknown }).rubric === 'string') {
      throw new InputError(`${at}.rubric`, 'a path here is read only from a reward file (--reward FILE)', 'the rubric itself (id, version, criteria)');
    }
    const spec: unknown = parseInput(TermSchemas[kind] as z.ZodType, raw, at);
    // The schema was picked by `kind`, so `spec` has that kind's shape.
    return { name, kind, spec, ...(key !== undefined ? { key } : {}), ...(category !== undefined ? { category } : {}) } as RewardTermSpec;
  });
  return { version: 1, terms };
}

/** The config as stored with a run: every default filled in, rubrics inline. */
export function rewardConfigJson(config: RewardConfig): JsonObject {
  return JSON.parse(JSON.stringify({ version: config.version, terms: Object.fromEntries(config.terms.map((t) => [t.name, t.spec])) })) as JsonObject;
}

/**
 * What a run uses when no reward is configured: today's scoring. The verifier's verdict is the
 * whole reward (1 or 0) and its partial credit is kept as a weight-0 term, visible but inert.
 */
export const DEFAULT_REWARD_CONFIG: RewardConfig = parseRewardConfig({ terms: { outcome: { weight: 1 }, verifier_checks: { weight: 0 } } }, 'default reward');

/**
 * Reads a reward file (YAML or JSON). A rubric given as a path is read relative to the file and
 * put inline, so the stored run holds the rubric itself, not a path that may change.
 */
export function loadRewardConfig(path: string): RewardConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read the reward config: ${errorMessage(error)}`, 'a YAML or JSON file with `terms:`');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InputError(path, `not valid YAML/JSON: ${errorMessage(error).split('\n')[0]}`);
  }
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

/** Whether composing needs the attempt's model calls (to rebuild the trajectory) and a judge. */
export function needs(config: RewardConfig): { trajectory: boolean; judge: boolean } {
  const judge = config.terms.some((t) => t.kind === 'rubric');
  return { judge, trajectory: judge || config.terms.some((t) => t.kind === 'detector') };
}
