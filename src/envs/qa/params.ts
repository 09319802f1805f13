import { z } from 'zod';
import type { CheckOutput } from '../define.ts';
import { scopedTexts, type Scope, type Transcript } from './transcript.ts';

/** Every check takes an optional `name`: the label its result carries in reports. */
export const name = z.string().min(1).optional();

/** Flags for a check's regular expression; `g` and `y` are left out because they make `test` stateful. */
export const RegexFlags = z.string().regex(/^(?!.*(.).*\1)[imsu]*$/, 'a subset of "imsu", each once').default('i');

/** A JavaScript regular expression source, checked to compile. */
export const Pattern = z.string().min(1).refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'a valid JavaScript regular expression');

export const ScopeParam = z.enum(['final', 'every_assistant_message', 'any_assistant_message']);

/** Texts given by `scope` must each (or, for `any_assistant_message`, one) pass `problemOf` (null: fine). */
export function checkScoped(transcript: Transcript, scope: Scope, problemOf: (text: string) => string | null): CheckOutput {
  const { texts, need } = scopedTexts(transcript, scope);
  if (texts.length === 0) return { passed: false, detail: scope === 'final' ? 'no final answer' : 'no assistant message with text' };
  const problems = texts.map(problemOf);
  if (need === 'any') {
    if (problems.some((p) => p === null)) return { passed: true };
    return { passed: false, detail: `no assistant message qualifies (last: ${problems.at(-1) ?? ''})` };
  }
  const index = problems.findIndex((p) => p !== null);
  if (index < 0) return { passed: true };
  const where = scope === 'final' ? 'final answer' : `assistant message ${index + 1} of ${texts.length}`;
  return { passed: false, detail: `${where}: ${problems[index]}` };
}
