// Users correct subject assignments; each correction, like each item of a labelled set, becomes
// a question-set case asking the classifier's exact question (run with `gauntlet run/eval --tasks-file`).
import { z } from 'zod';
import { InputError, type TaskInput } from '../../core/index.ts';
import { labelTask, slug } from '../labels.ts';
import { readState, writeState } from '../state.ts';
import { emptyRadarState, RadarState } from './radar.ts';
import { CLASSIFY_SYSTEM, classifyPrompt, NO_SUBJECT, type Subject } from './subjects.ts';

export const Correction = z.object({
  key: z.string(),
  title: z.string(),
  link: z.string(),
  summary: z.string(),
  from: z.string(),
  to: z.string(),
  by: z.string(),
  at: z.string(),
});
export type Correction = z.infer<typeof Correction>;

export const CorrectionsFile = z.object({ version: z.literal(1), corrections: z.array(Correction) });
const emptyCorrections = (): z.infer<typeof CorrectionsFile> => ({ version: 1, corrections: [] });

export const LabelledItems = z
  .object({
    items: z
      .array(z.object({ title: z.string().min(1), link: z.url(), summary: z.string().default(''), subject: z.string().min(1) }).strict())
      .min(1),
  })
  .strict();
export type LabelledItems = z.infer<typeof LabelledItems>;

/** Records that `key` belongs to `subject`; the item must have been seen by the radar. */
export async function correctSubject(options: { statePath: string; correctionsPath: string; key: string; subject: string; subjects: readonly Subject[]; by: string; now?: () => Date }): Promise<Correction> {
  const allowed = [...options.subjects.map((s) => s.id), NO_SUBJECT];
  if (!allowed.includes(options.subject)) throw new InputError('--subject', `unknown subject '${options.subject}'`, `one of ${allowed.join(', ')}`);
  const state = await readState(options.statePath, RadarState, emptyRadarState);
  const seen = Object.hasOwn(state.items, options.key) ? state.items[options.key] : undefined;
  if (!seen) throw new InputError('--item', `the radar has not seen an item with key '${options.key}' (state ${options.statePath})`, 'a key from the digest JSON (`gauntlet radar --json`)');
  const correction: Correction = { key: options.key, title: seen.title, link: seen.link, summary: seen.summary, from: seen.subject, to: options.subject, by: options.by, at: (options.now?.() ?? new Date()).toISOString() };
  const file = await readState(options.correctionsPath, CorrectionsFile, emptyCorrections);
  file.corrections.push(correction);
  await writeState(options.correctionsPath, file);
  Object.defineProperty(state.items, options.key, { value: { ...seen, subject: options.subject }, enumerable: true, writable: true, configurable: true });
  await writeState(options.statePath, state);
  return correction;
}

export async function readCorrections(path: string): Promise<Correction[]> {
  return (await readState(path, CorrectionsFile, emptyCorrections)).corrections;
}

/** One case per labelled item and per corrected item (the latest correction of each wins). */
export function radarCases(options: { subjects: readonly Subject[]; labelled?: LabelledItems; corrections?: readonly Correction[] }): TaskInput[] {
  const allowed = new Set([...options.subjects.map((s) => s.id), NO_SUBJECT]);
  const cases: TaskInput[] = [];
  const ids = new Set<string>();
  const add = (task: TaskInput): void => {
    let id = task.id;
    for (let n = 2; ids.has(id); n++) id = `${task.id}-${n}`;
    ids.add(id);
    cases.push({ ...task, id });
  };
  (options.labelled?.items ?? []).forEach((item, i) => {
    if (!allowed.has(item.subject)) throw new InputError(`labelled items.${i}.subject`, `unknown subject '${item.subject}'`, [...allowed].join(', '));
    add(caseTask({ id: `radar/labelled/${slug(item.title)}`, item, subject: item.subject, subjects: options.subjects, labels: ['radar', 'labelled'] }));
  });
  const latest = new Map<string, Correction>();
  for (const c of options.corrections ?? []) latest.set(c.key, c);
  for (const c of latest.values()) {
    if (!allowed.has(c.to)) continue;
    add(caseTask({ id: `radar/correction/${slug(c.title)}`, item: c, subject: c.to, subjects: options.subjects, labels: ['radar', 'correction'], metadata: { correctedFrom: c.from, by: c.by, at: c.at } }));
  }
  return cases;
}

function caseTask(options: { id: string; item: { title: string; link: string; summary: string }; subject: string; subjects: readonly Subject[]; labels: string[]; metadata?: Record<string, string> }): TaskInput {
  return labelTask({
    id: options.id,
    domain: 'radar-subjects',
    system: CLASSIFY_SYSTEM,
    prompt: classifyPrompt(options.item, options.subjects),
    field: 'Subject',
    expected: options.subject,
    labels: options.labels,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
}
