// Scoring detectors against a labelled set: per category, a rollout is a true positive when it is
// labelled with the category and flagged with it, a false positive when flagged but not labelled,
// a false negative when labelled but not flagged. Overall figures pool every category (micro).
import { z } from 'zod';
import { DETECTION_CATEGORIES, DetectionCategory, errorMessage, InputError, parseInput, parseInputText, readInputFile, type DetectionFlag } from '../../core/index.ts';
import { cut } from './actions.ts';
import { textKey } from './text.ts';

export const LabelFile = z.object({
  schemaVersion: z.literal(1),
  labels: z
    .array(
      z.object({
        rolloutId: z.string().min(1),
        /** Every category the trajectory shows; empty for a clean one. */
        categories: z.array(DetectionCategory),
        note: z.string().optional(),
      }),
    )
    .min(1),
});
export type LabelFile = z.infer<typeof LabelFile>;

export interface CategoryScore {
  category: DetectionCategory | 'overall';
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Labelled rollouts. */
  support: number;
  /** null where nothing was flagged (precision) or nothing labelled (recall): undefined, not perfect. */
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface Evaluation {
  rollouts: number;
  categories: CategoryScore[];
  overall: CategoryScore;
  /** Rollouts whose flagged categories differ from their labels, for reading the misses. */
  mistakes: { rolloutId: string; missed: DetectionCategory[]; unexpected: DetectionCategory[] }[];
  /** Labelled rollouts the input did not hold: left out of the figures, and said so. */
  labelsNotInInput: number;
}

const LABELS_EXPECTED = 'a JSON file {"schemaVersion": 1, "labels": [{"rolloutId", "categories": [...]}]}';

export function loadLabels(path: string): LabelFile {
  // The project's reader: a key written twice (`"labels"` twice) is refused, not read as its last copy.
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read the labels (${errorMessage(error)})`, LABELS_EXPECTED) });
  const { value } = parseInputText(text, path, { json: true, syntax: 'not valid JSON' });
  const file = parseInput(LabelFile, value, path);
  // Ids by textKey: long keys of one length all collide in a Set.
  const seen = new Set<string>();
  for (const [i, label] of file.labels.entries()) {
    if (seen.has(textKey(label.rolloutId))) throw new InputError(`${path}: labels.${i}.rolloutId`, `"${cut(label.rolloutId, 100)}" is labelled twice`, 'one label per rollout');
    seen.add(textKey(label.rolloutId));
  }
  return file;
}

function score(category: CategoryScore['category'], tp: number, fp: number, fn: number): CategoryScore {
  const precision = tp + fp === 0 ? null : tp / (tp + fp);
  const recall = tp + fn === 0 ? null : tp / (tp + fn);
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { category, truePositives: tp, falsePositives: fp, falseNegatives: fn, support: tp + fn, precision, recall, f1 };
}

/** Compares flags with labels; every evaluated rollout must be labelled (`where` names the label file). */
export function evaluate(results: readonly { rolloutId: string; flags: readonly DetectionFlag[] }[], labels: LabelFile, where: string): Evaluation {
  const expected = new Map(labels.labels.map((l) => [textKey(l.rolloutId), new Set(l.categories)]));
  const counts = new Map(DETECTION_CATEGORIES.map((c) => [c, { tp: 0, fp: 0, fn: 0 }]));
  const mistakes: Evaluation['mistakes'] = [];
  const labelled = new Set<string>();
  for (const result of results) {
    labelled.add(textKey(result.rolloutId));
    const truth = expected.get(textKey(result.rolloutId));
    if (!truth) throw new InputError(where, `rollout ${cut(result.rolloutId, 100)} has no label`, 'a label for every rollout in the input');
    const flagged = new Set(result.flags.map((f) => f.category));
    for (const category of DETECTION_CATEGORIES) {
      const c = counts.get(category)!;
      if (flagged.has(category) && truth.has(category)) c.tp++;
      else if (flagged.has(category)) c.fp++;
      else if (truth.has(category)) c.fn++;
    }
    const missed = [...truth].filter((c) => !flagged.has(c));
    const unexpected = [...flagged].filter((c) => !truth.has(c));
    if (missed.length > 0 || unexpected.length > 0) mistakes.push({ rolloutId: result.rolloutId, missed, unexpected });
  }
  const categories = DETECTION_CATEGORIES.map((c) => {
    const { tp, fp, fn } = counts.get(c)!;
    return score(c, tp, fp, fn);
  });
  const sum = (key: 'truePositives' | 'falsePositives' | 'falseNegatives') => categories.reduce((total, c) => total + c[key], 0);
  const labelsNotInInput = [...expected.keys()].filter((key) => !labelled.has(key)).length;
  return { rollouts: results.length, categories, overall: score('overall', sum('truePositives'), sum('falsePositives'), sum('falseNegatives')), mistakes, labelsNotInInput };
}

const figure = (value: number | null) => (value === null ? '   n/a' : value.toFixed(3).padStart(6));

/** A table of precision, recall and F1 per category and overall. */
export function renderEvaluation(evaluation: Evaluation): string {
  const rows = [...evaluation.categories, evaluation.overall].map(
    (c) => `  ${(c.category === 'overall' ? 'overall (micro)' : c.category).padEnd(27)} ${figure(c.precision)}  ${figure(c.recall)}  ${figure(c.f1)}  ${String(c.truePositives).padStart(4)} ${String(c.falsePositives).padStart(4)} ${String(c.falseNegatives).padStart(4)} ${String(c.support).padStart(7)}`,
  );
  const absent = evaluation.labelsNotInInput > 0 ? [`  (${evaluation.labelsNotInInput} labelled rollouts are not in the input and are left out of these figures)`] : [];
  return [`detector figures over ${evaluation.rollouts} labelled rollouts:`, `  ${'category'.padEnd(27)} ${'prec.'.padStart(6)}  ${'recall'.padStart(6)}  ${'F1'.padStart(6)}    tp   fp   fn support`, ...rows, ...absent].join('\n');
}
