// Perturbation specs as people write them — `tools.rename`, `prompts.system:verbose`,
// `responses.truncate:maxChars=800` — validated into resolved perturbations, with errors that list
// what would have been accepted.
import { z } from 'zod';
import { describeZodIssues, InputError, JsonObject, type JsonValue } from '../core/index.ts';
import { findPerturbation, PERTURBATIONS, perturbationIds } from './catalog.ts';
import { isObject } from './json-schema.ts';
import type { Perturbation } from './types.ts';

/** A perturbation as stored in a run's config: its id and the params given (defaults filled in on resolve). */
export const PerturbationSpec = z.object({ id: z.string().min(1), params: JsonObject.default({}) }).strict();
export type PerturbationSpec = z.infer<typeof PerturbationSpec>;

export interface ResolvedPerturbation {
  perturbation: Perturbation;
  /** Params with defaults filled in: what is recorded. */
  params: JsonObject;
  /** Position in the catalog: the order of application. */
  order: number;
}

/** Validated perturbations in the order they apply; `specs` is what a run stores. */
export interface ResolvedPerturbations {
  entries: readonly ResolvedPerturbation[];
  specs: PerturbationSpec[];
}

interface ParamInfo {
  name: string;
  type: string;
  choices: JsonValue[] | null;
  default: JsonValue | undefined;
}

/** The params a perturbation takes, read from its schema (for errors and listings). */
export function paramsOf(perturbation: Perturbation): ParamInfo[] {
  const json = z.toJSONSchema(perturbation.params, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  const properties = isObject(json.properties) ? json.properties : {};
  return Object.entries(properties).map(([name, schema]) => {
    const s = isObject(schema) ? schema : {};
    return {
      name,
      type: typeof s.type === 'string' ? s.type : 'value',
      choices: Array.isArray(s.enum) ? s.enum : null,
      default: s.default,
    };
  });
}

function describeParams(perturbation: Perturbation): string {
  const params = paramsOf(perturbation);
  if (params.length === 0) return 'no parameters';
  return params
    .map((p) => `${p.name}=${p.choices ? p.choices.map(String).join('|') : p.type}${p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : ''}`)
    .join(', ');
}

/** One line per perturbation: id, what it does, its parameters. */
export function describePerturbations(): string[] {
  return PERTURBATIONS.map((p) => `${p.id}: ${p.summary} [${describeParams(p)}]`);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** Longer input is cut in messages: a 100 KB spec need not be echoed whole. */
const SHOWN_CHARS = 80;

/**
 * Text from the command line as a message shows it: in quotes, cut when long, and with characters
 * one cannot see or tell apart from ASCII (zero-width spaces, full-width letters) written as
 * `\uXXXX`, so "tools.rename" — did you mean tools.rename? never happens.
 */
export function shown(text: string): string {
  const long = text.length > SHOWN_CHARS;
  const escaped = (long ? text.slice(0, SHOWN_CHARS) : text).replace(/[^\x20-\x7e]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  return long ? `"${escaped}…" (${text.length} characters)` : `"${escaped}"`;
}

/** Edits between two words, a swap of neighbours counting as one (`stlye` is one from `style`). */
function slips(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidates `word` is most likely a slip for: the same but for case, or a few edits away. */
export function closestNames(word: string, candidates: readonly string[]): string[] {
  const lower = word.toLowerCase();
  const sameCase = candidates.filter((c) => c.toLowerCase() === lower);
  if (sameCase.length > 0) return sameCase;
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  // Only words near in length are compared: a 100 KB value costs nothing.
  const scored = candidates.filter((c) => Math.abs(c.length - word.length) <= limit).map((c) => [c, slips(c.toLowerCase(), lower)] as const);
  const best = Math.min(...scored.map(([, d]) => d));
  return best <= limit ? scored.filter(([, d]) => d === best).map(([c]) => c) : [];
}

function unknownId(id: string, where: string): InputError {
  const ids = perturbationIds();
  // Only ids near in length are compared: a 100 KB spec costs nothing.
  const near = ids.filter((known) => known.toLowerCase() === id.toLowerCase() || (Math.abs(known.length - id.length) <= 3 && distance(known, id) <= 3) || known.endsWith(`.${id}`));
  const hint = near.length > 0 ? ` — did you mean ${near.join(' or ')}?` : '';
  return new InputError(where, `unknown perturbation ${shown(id)}${hint}`, `one of ${ids.join(', ')}`);
}

function scalar(text: string): JsonValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(\d+(?:\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text)) return Number(text);
  return text;
}

/**
 * The param a bare value (`prompts.system:verbose`) sets: the one whose choices include it, else
 * the first, unless that one is already set (`tools.rename:style=case,reorder` is a mistyped
 * perturbation, not style given twice).
 */
function bareParam(perturbation: Perturbation, value: JsonValue, given: JsonObject, where: string): string {
  const params = paramsOf(perturbation);
  const byChoice = params.filter((p) => p.choices?.includes(value));
  if (byChoice.length === 1) return byChoice[0]!.name;
  const first = params[0];
  if (!first) throw new InputError(where, `${perturbation.id} takes no parameters, got ${shown(String(value))}`, perturbation.id);
  if (Object.hasOwn(given, first.name)) {
    throw new InputError(where, `${shown(String(value))} is neither a value of a ${perturbation.id} parameter nor a perturbation id`, `${perturbation.id}:NAME=VALUE[,NAME=VALUE…] with ${describeParams(perturbation)}`);
  }
  return first.name;
}

/** Parses `family.name[:param=value,…]` (a bare value sets the main parameter). */
export function parsePerturbationText(text: string, where = '--perturb'): PerturbationSpec {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const id = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const found = findPerturbation(id);
  if (!found) throw unknownId(id, where);
  const params: JsonObject = {};
  if (colon !== -1) {
    for (const part of trimmed.slice(colon + 1).split(',')) {
      if (part.trim() === '') throw new InputError(where, `an empty parameter in ${shown(trimmed)}`, `${id}:NAME=VALUE[,NAME=VALUE…]`);
      const eq = part.indexOf('=');
      const value = scalar((eq === -1 ? part : part.slice(eq + 1)).trim());
      const name = eq === -1 ? bareParam(found.perturbation, value, params, where) : part.slice(0, eq).trim();
      // Own properties only: `name in params` calls `constructor` "given twice", and
      // `params.__proto__ = …` sets no parameter at all, so neither would reach the check below.
      if (Object.hasOwn(params, name)) throw new InputError(where, `${id}: parameter ${name} given twice`);
      Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return { id, params };
}

/**
 * `--perturb` values as given on the command line: comma-separated specs, where a comma followed
 * by `name=value` continues the previous spec's parameters (`tools.rename:style=case,parameters=false`).
 * A value with no spec at all (`--perturb ""`, an unset shell variable) is an error: the run would
 * otherwise go unperturbed while its author believes it perturbed.
 */
export function splitPerturbFlag(value: string): string[] {
  const specs = splitSpecs(value);
  if (specs.length === 0) throw new InputError('--perturb', `no perturbation in ${shown(value)}`, 'family.name[:param=value,…], e.g. tools.rename (`gauntlet perturbations` lists them)');
  return specs;
}

/** `splitPerturbFlag` without the check: the specs a value holds, maybe none. */
export function splitSpecs(value: string): string[] {
  const out: string[] = [];
  for (const piece of value.split(',')) {
    const last = out.length - 1;
    if (last >= 0 && out[last]!.includes(':') && !findPerturbation(piece.trim().split(':')[0] ?? '') && piece.trim() !== '') out[last] += `,${piece}`;
    else out.push(piece);
  }
  return out.map((s) => s.trim()).filter(Boolean);
}

function resolveOne(input: string | PerturbationSpec | JsonObject, where: string): ResolvedPerturbation {
  const spec = typeof input === 'string' ? parsePerturbationText(input, where) : parseSpecObject(input, where);
  const found = findPerturbation(spec.id);
  if (!found) throw unknownId(spec.id, where);
  const parsed = found.perturbation.params.safeParse(spec.params);
  if (!parsed.success) {
    const hints = parsed.error.issues.flatMap((issue) => hintFor(issue, found.perturbation, spec.params));
    throw new InputError(`${where} (${spec.id})`, `bad parameters:\n${[describeZodIssues(parsed.error.issues, 'params'), ...hints].join('\n')}`, describeParams(found.perturbation));
  }
  return { perturbation: found.perturbation, params: parsed.data, order: found.order };
}

/** A did-you-mean line for a misspelt parameter name (`stlye`) or choice (`opaq`), when one is near. */
function hintFor(issue: z.core.$ZodIssue, perturbation: Perturbation, given: JsonObject): string[] {
  const params = paramsOf(perturbation);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.flatMap((key) => {
      const near = closestNames(key, params.map((p) => p.name));
      return near.length > 0 ? [`did you mean ${near.join(' or ')} for ${shown(key)}?`] : [];
    });
  }
  const name = issue.path[0];
  const value = typeof name === 'string' && Object.hasOwn(given, name) ? given[name] : undefined;
  const choices = params.find((p) => p.name === name)?.choices;
  if (typeof value !== 'string' || !choices) return [];
  const near = closestNames(
    value,
    choices.filter((c): c is string => typeof c === 'string'),
  );
  return near.length > 0 ? [`did you mean ${near.map((c) => `${String(name)}=${c}`).join(' or ')}?`] : [];
}

function parseSpecObject(input: PerturbationSpec | JsonObject, where: string): PerturbationSpec {
  const parsed = PerturbationSpec.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InputError(where, `not a perturbation spec\n${describeZodIssues(parsed.error.issues)}`, '{ id: "family.name", params: { … } } or "family.name:param=value"');
}

/** Settings two perturbations may not both decide. */
const SETTING_OWNERS: Record<string, readonly string[]> = { scaffold: ['scaffold.thinking', 'scaffold.tools'] };

/**
 * Validates perturbation specs (strings or `{ id, params }`) into the order they apply. Unknown
 * ids, bad parameters, a perturbation given twice and two that decide the same setting are
 * InputErrors naming where (`--perturb`, `perturbations.2`) and what is accepted.
 */
export function resolvePerturbations(inputs: readonly (string | PerturbationSpec | JsonObject)[], where = 'perturbations'): ResolvedPerturbations {
  const entries = inputs.map((input, i) => resolveOne(input, inputs.length > 1 ? `${where}.${i}` : where));
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.perturbation.id)) throw new InputError(where, `${entry.perturbation.id} is given twice`, 'each perturbation at most once per episode (use a suite to compare variants)');
    seen.add(entry.perturbation.id);
  }
  for (const [setting, owners] of Object.entries(SETTING_OWNERS)) {
    const both = owners.filter((id) => seen.has(id));
    if (both.length > 1) throw new InputError(where, `${both.join(' and ')} both choose the ${setting}`, `at most one of ${owners.join(', ')}`);
  }
  const sorted = [...entries].sort((a, b) => a.order - b.order);
  return { entries: sorted, specs: sorted.map((e) => ({ id: e.perturbation.id, params: e.params })) };
}
