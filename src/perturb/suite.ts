// Perturbation suites: axes of alternatives (crossed or one at a time), the seeds perturbations
// draw from, and the families held out of training so a report can measure generalisation to them.
import { isMap, isNode, isScalar } from 'yaml';
import { z } from 'zod';
import { fileErrorCode, hashString, InputError, lineOf, parseInputText, readInputFile, stableStringify } from '../core/index.ts';
import { findPerturbation, perturbationIds } from './catalog.ts';
import { closestNames, parsePerturbationText, resolvePerturbations, shown, splitSpecs, type PerturbationSpec, type ResolvedPerturbations } from './spec.ts';
import { FAMILIES, type Family } from './types.ts';

/** An axis value: one perturbation spec, several joined by `+`, or `none` (the axis left unperturbed). */
const AxisValue = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const SuiteFile = z
  .object({
    name: z.string().min(1).optional(),
    /** Seeds perturbations draw from; epoch e uses seeds[e mod n]. */
    seeds: z.array(z.number().int().min(0).max(2 ** 32 - 1)).min(1).default([0]),
    /** Named axes, each a list of alternatives. */
    axes: z.record(z.string().min(1), z.array(AxisValue).min(1)).default({}),
    /** Every combination of one value per axis (true), or each value on its own (false). */
    cross: z.boolean().default(false),
    /** Further arms, written out: each a spec or a list of specs applied together. */
    arms: z.array(AxisValue).default([]),
    /** Families (`responses`) or perturbation ids (`tools.rename`) kept out of training. */
    heldOut: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((s) => Object.keys(s.axes).length > 0 || s.arms.length > 0, 'give axes, arms or both');
export type SuiteFile = z.infer<typeof SuiteFile>;

export type Split = 'seen' | 'held-out';

export interface SuiteArm {
  /** The arm's specs joined by ` + ` (`tools.rename + responses.format:as=table`). */
  id: string;
  resolved: ResolvedPerturbations;
  families: Family[];
  split: Split;
}

export interface Suite {
  name: string;
  seeds: number[];
  /** Every perturbed arm; the unperturbed baseline is implied. */
  arms: SuiteArm[];
  heldOut: string[];
}

const NONE = 'none';

/**
 * The specs of one axis value or arm. A piece with no spec (`" "`, `"+"`, `"tools.rename+"`) is an
 * error, not an arm quietly dropped or merged into the baseline; `none` is how to say "nothing".
 */
function specsOf(value: string | string[], where: string): PerturbationSpec[] {
  const pieces = Array.isArray(value) ? value : value.split('+');
  const texts = pieces.flatMap((piece) => {
    const specs = splitSpecs(piece);
    if (specs.length === 0) throw new InputError(where, `an empty perturbation in ${shown(Array.isArray(value) ? piece : value)}`, `family.name[:param=value,…] (joined by +), or ${NONE} for the unperturbed baseline`);
    return specs;
  });
  return texts.filter((t) => t !== NONE).map((t) => parsePerturbationText(t, where));
}

/** `id` with the params that differ from its defaults (`tools.rename:style=opaque`). */
function label(spec: PerturbationSpec): string {
  const found = findPerturbation(spec.id);
  const defaults = found?.perturbation.params.safeParse({});
  const base: Record<string, unknown> = defaults?.success ? defaults.data : {};
  const params = Object.entries(spec.params).filter(([k, v]) => stableStringify(base[k]) !== stableStringify(v));
  return params.length === 0 ? spec.id : `${spec.id}:${params.map(([k, v]) => `${k}=${String(v)}`).join(',')}`;
}

function cartesian<T>(lists: readonly (readonly T[])[]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((item) => [...prefix, item])), [[]]);
}

function checkHeldOut(entries: readonly string[], at: Locate): void {
  for (const [i, entry] of entries.entries()) {
    if ((FAMILIES as readonly string[]).includes(entry) || findPerturbation(entry)) continue;
    const near = closestNames(entry, [...FAMILIES, ...perturbationIds()]);
    const hint = near.length > 0 ? ` — did you mean ${near.join(' or ')}?` : '';
    throw new InputError(at(['heldOut', i]), `${shown(entry)} is neither a perturbation family nor a perturbation id${hint}`, `a family (${FAMILIES.join(', ')}) or an id (${perturbationIds().join(', ')})`);
  }
}

/** Names a field of the suite in errors: the source, its line where known, and the field's path. */
export type Locate = (path: readonly (string | number)[]) => string;

/**
 * The most arms a suite may have. Every arm is run over every task and epoch and compared with the
 * baseline; past a thousand the report says nothing a smaller suite would not, and crossing a few
 * long axes would otherwise build millions of arms before anything could be said about them.
 */
export const MAX_ARMS = 1000;

/**
 * Builds a suite from its parsed file (or an object in the same shape); `where` names the source in
 * errors, `locate` (from loadSuite) adds the line of each field.
 */
export function buildSuite(file: SuiteFile, where = 'suite', locate?: Locate): Suite {
  const at: Locate = locate ?? ((path) => `${where}: ${path.join('.')}`);
  checkHeldOut(file.heldOut, at);
  const held = new Set(file.heldOut);
  const axes = Object.entries(file.axes);
  // Counted before anything is built: a crossed suite's size is the product of its axes' lengths.
  const count = (file.cross ? axes.reduce((n, [, values]) => n * values.length, axes.length > 0 ? 1 : 0) : axes.reduce((n, [, values]) => n + values.length, 0)) + file.arms.length;
  if (count > MAX_ARMS) {
    const sizes = axes.map(([axis, values]) => `${axis} ${values.length}`).join(file.cross ? ' × ' : ' + ');
    throw new InputError(where, `the suite has ${count > 1e15 ? 'more than 10^15' : count} arms (${[sizes, file.arms.length > 0 ? `${file.arms.length} written` : ''].filter(Boolean).join(' + ')})`, `at most ${MAX_ARMS} arms: fewer values per axis, cross: false, or several suites`);
  }
  // Each arm keeps where it was written, so a clash or a bad parameter names its line.
  type Written = { specs: PerturbationSpec[]; where: string };
  const choices = axes.map(([axis, values]) => values.map((v, i): Written => ({ specs: specsOf(v, at(['axes', axis, i])), where: at(['axes', axis, i]) })));
  const combos = file.cross
    ? cartesian(choices).map((parts): Written => ({ specs: parts.flatMap((p) => p.specs), where: parts.map((p) => p.where).join(' × ') }))
    : choices.flat();
  const written = file.arms.map((v, i): Written => ({ specs: specsOf(v, at(['arms', i])), where: at(['arms', i]) }));
  const arms: SuiteArm[] = [];
  const seen = new Set<string>();
  for (const { specs, where: armWhere } of [...combos, ...written]) {
    if (specs.length === 0) continue; // every axis at `none`: that is the baseline, always run
    const resolved = resolvePerturbations(specs, armWhere);
    const id = resolved.specs.map(label).join(' + ');
    if (seen.has(id)) continue;
    seen.add(id);
    const families = [...new Set(resolved.entries.map((e) => e.perturbation.family))];
    const heldOut = resolved.entries.some((e) => held.has(e.perturbation.id) || held.has(e.perturbation.family));
    arms.push({ id, resolved, families, split: heldOut ? 'held-out' : 'seen' });
  }
  if (arms.length === 0) throw new InputError(where, 'the suite has no perturbed arm', 'at least one axis value or arm other than none');
  return { name: file.name ?? 'suite', seeds: file.seeds, arms, heldOut: file.heldOut };
}

/** Reads a YAML or JSON suite file; problems name the file, line and field. */
export function loadSuite(path: string): Suite {
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read the suite file (${fileErrorCode(error)})`) });
  const input = parseInputText(text, path, { lineInWhere: true });
  const value = input.value;
  const parsed = SuiteFile.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const { doc, lines: counter } = input.document();
    let node: unknown = at.length === 0 ? doc.contents : doc.getIn(at, true);
    // An unknown key is reported at its own line, not its parent's.
    if (issue.code === 'unrecognized_keys' && isMap(node)) node = node.items.find((pair) => isScalar(pair.key) && pair.key.value === issue.keys[0])?.key ?? node;
    const line = isNode(node) && node.range ? `:${counter.linePos(node.range[0]).line}` : '';
    const near = issue.code === 'unrecognized_keys' ? closestNames(issue.keys[0] ?? '', SUITE_KEYS) : [];
    const hint = near.length > 0 ? ` — did you mean ${near.join(' or ')}?` : '';
    throw new InputError(`${path}${line}`, `field ${issue.path.join('.') || '(suite)'}: ${issue.message}${hint}`, 'seeds, axes, cross, arms, heldOut (see docs/design/perturbations.md)');
  }
  // Only asked when there is an error to place (the YAML document is built on first use).
  const locate: Locate = (at) => {
    const line = lineOf(input, at);
    return `${path}${line !== undefined ? `:${line}` : ''}: ${at.join('.')}`;
  };
  return buildSuite(parsed.data, path, locate);
}

const SUITE_KEYS = ['name', 'seeds', 'axes', 'cross', 'arms', 'heldOut'];

/** The arms training may draw from (the seen families). */
export function trainingArms(suite: Suite): SuiteArm[] {
  return suite.arms.filter((a) => a.split === 'seen');
}

/** The perturbation seed of an epoch: the suite's seeds in turn. */
export function seedForEpoch(suite: Pick<Suite, 'seeds'>, epoch: number): number {
  return suite.seeds[epoch % suite.seeds.length]!;
}

/**
 * The arm one training rollout uses, drawn evenly from the seen arms by (seed, task, epoch), so a
 * re-run draws the same. Null when every arm is held out.
 */
export function pickTrainingArm(options: { suite: Suite; seed: number; taskId: string; epoch: number }): SuiteArm | null {
  const arms = trainingArms(options.suite);
  if (arms.length === 0) return null;
  return arms[hashString(`train-arm:${options.seed}:${options.taskId}:${options.epoch}`) % arms.length]!;
}
