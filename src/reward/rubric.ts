// A rubric: named criteria, each on an integer scale, identified by id and version so a stored
// grade says exactly which wording produced it. Rubrics are data (YAML/JSON), validated on read.
import { z } from 'zod';
import { errorMessage, InputError, parseInput, parseInputText, readInputFile } from '../core/index.ts';

const Ident = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, and . _ - (not first)');

export const RubricCriterion = z
  .strictObject({
    id: Ident,
    /** What the judge looks for, in words a person would accept as the standard. */
    description: z.string().min(1),
    /** Inclusive integer scale; `labels` anchor some or all points (`{ 1: "no plan", 5: "…" }`). */
    scale: z
      .strictObject({
        min: z.number().int(),
        max: z.number().int(),
        labels: z.record(z.string(), z.string().min(1)).optional(),
      })
      .refine((s) => s.max > s.min, 'max above min')
      // Written as integers are (no leading zeros, no -0): `1` and `01` would be two labels for one point.
      .superRefine((s, ctx) => {
        for (const key of Object.keys(s.labels ?? {})) {
          if (!/^(?:0|-?[1-9]\d*)$/.test(key)) ctx.addIssue({ code: 'custom', path: ['labels', key], message: `${JSON.stringify(key.slice(0, 40))} is not an integer point written plainly (1, not 01 or +1)` });
        }
      })
      .refine((s) => Object.keys(s.labels ?? {}).every((k) => Number(k) >= s.min && Number(k) <= s.max), 'labels only for points between min and max'),
    /** Relative weight of this criterion in the rubric's score (default 1). */
    weight: z.number().positive().default(1),
  });
export type RubricCriterion = z.infer<typeof RubricCriterion>;

export const Rubric = z
  .strictObject({
    id: Ident,
    /** Bumped whenever the wording or scales change: grades under different versions are not comparable. */
    version: z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String),
    description: z.string().optional(),
    criteria: z.array(RubricCriterion).min(1),
  })
  .refine((r) => new Set(r.criteria.map((c) => c.id)).size === r.criteria.length, { message: 'criterion ids must be unique', path: ['criteria'] })
  // The score divides by the total: weights that overflow it would make every grade NaN, after the judge was paid.
  .refine((r) => Number.isFinite(r.criteria.reduce((s, c) => s + c.weight, 0)), { message: 'the weights must add up to a finite number', path: ['criteria'] });
export type Rubric = z.infer<typeof Rubric>;
export type RubricInput = z.input<typeof Rubric>;

/** `id@version`, as grades and reward terms name the rubric. */
export function rubricRef(rubric: Rubric): string {
  return `${rubric.id}@${rubric.version}`;
}

/** Reads a rubric from YAML or JSON; problems are InputErrors naming the file and field. */
export function loadRubric(path: string): Rubric {
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read the rubric: ${errorMessage(error)}`, 'a YAML or JSON rubric file (id, version, criteria)') });
  const { value } = parseInputText(text, path, { syntax: 'not valid YAML/JSON' });
  return parseInput(Rubric, value, path);
}

/** A criterion's score mapped onto [0, 1]. */
export function normalised(criterion: RubricCriterion, score: number): number {
  return (score - criterion.scale.min) / (criterion.scale.max - criterion.scale.min);
}
