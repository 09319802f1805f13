import { z } from 'zod';
import { defineCheck, type CheckDefinition } from '../define.ts';
import { extractChoice, extractFinalNumber, numberMatches, wordCount } from './extract.ts';
import { name, Pattern, RegexFlags } from './params.ts';
import { quote, transcriptOf } from './transcript.ts';

/** Surrounding quotes and markdown emphasis and one trailing full stop never decide an exact match. */
function exactForm(text: string, options: { caseSensitive: boolean; normalizeWhitespace: boolean }): string {
  let out = text.trim();
  if (options.normalizeWhitespace) out = out.replace(/\s+/g, ' ');
  const stripStop = (t: string) => t.replace(/(?<!\.)\.$/, '').trim();
  out = stripStop(stripStop(out).replace(/^[*_`"'“”‘’]+|[*_`"'“”‘’]+$/g, '').trim());
  return options.caseSensitive ? out : out.toLowerCase();
}

/** Replies that acknowledge without answering. */
const ACKNOWLEDGEMENTS = new Set(['done', 'ok', 'okay', 'sure', 'noted', 'n/a', 'na', 'k']);

/** Checks on the final answer's content. */
export const answerChecks: Record<string, CheckDefinition> = {
  answer_exact: defineCheck({
    kind: 'outcome',
    description:
      'The final answer equals `value` (or one of `values`): case-insensitive and with whitespace collapsed unless turned off; surrounding quotes, emphasis and one trailing full stop are ignored.',
    params: z
      .object({
        value: z.string().optional(),
        values: z.array(z.string()).min(1).optional(),
        caseSensitive: z.boolean().default(false),
        normalizeWhitespace: z.boolean().default(true),
        name,
      })
      .refine((p) => (p.value === undefined) !== (p.values === undefined), 'give exactly one of value or values'),
    run: ({ value, values, caseSensitive, normalizeWhitespace }, ctx) => {
      const final = transcriptOf(ctx).final;
      if (final === null) return { passed: false, detail: 'no final answer' };
      const accepted = values ?? (value === undefined ? [] : [value]);
      const form = (t: string) => exactForm(t, { caseSensitive, normalizeWhitespace });
      if (accepted.some((a) => form(a) === form(final))) return { passed: true };
      return { passed: false, detail: `answer ${quote(final)} is not ${accepted.map((a) => quote(a)).join(' or ')}` };
    },
  }),

  answer_regex: defineCheck({
    kind: 'outcome',
    description: 'The final answer matches the regular expression `pattern` (flags default "i").',
    params: z.object({ pattern: Pattern, flags: RegexFlags, name }),
    run: ({ pattern, flags }, ctx) => {
      const final = transcriptOf(ctx).final;
      if (final === null) return { passed: false, detail: 'no final answer' };
      return new RegExp(pattern, flags).test(final) ? { passed: true } : { passed: false, detail: `answer ${quote(final)} does not match /${pattern}/${flags}` };
    },
  }),

  answer_numeric: defineCheck({
    kind: 'outcome',
    description:
      'The number the final answer settles on (see extractFinalNumber: \\boxed{}, "answer is", else the last number; fractions and percentages read) is within `tolerance` of `value` (absolute, or a fraction of |value| when `relative`). "45%" also matches 0.45.',
    params: z.object({ value: z.number(), tolerance: z.number().nonnegative().default(1e-6), relative: z.boolean().default(false), name }),
    run: ({ value, tolerance, relative }, ctx) => {
      const final = transcriptOf(ctx).final;
      if (final === null) return { passed: false, detail: 'no final answer' };
      const read = extractFinalNumber(final);
      if (!read) return { passed: false, detail: `no number in the answer ${quote(final)}` };
      const allowed = relative ? tolerance * Math.abs(value) : tolerance;
      if (numberMatches(read, value, allowed)) return { passed: true };
      return { passed: false, detail: `read ${read.text} from the answer; expected ${value}${allowed > 0 ? ` ± ${allowed}` : ''}` };
    },
  }),

  answer_choice: defineCheck({
    kind: 'outcome',
    description: 'The final answer picks the multiple-choice letter `value` (out of `letters`, default ABCDE) and no other.',
    params: z
      .object({ value: z.string().regex(/^[A-Za-z]$/, 'one letter'), letters: z.string().regex(/^[A-Za-z]+$/, 'letters only').default('ABCDE'), name })
      .refine((p) => p.letters.toUpperCase().includes(p.value.toUpperCase()), 'value must be one of letters'),
    run: ({ value, letters }, ctx) => {
      const final = transcriptOf(ctx).final;
      if (final === null) return { passed: false, detail: 'no final answer' };
      const picked = extractChoice(final, letters);
      if (picked === value.toUpperCase()) return { passed: true };
      return { passed: false, detail: picked ? `picked ${picked}, expected ${value.toUpperCase()}` : `no single choice of ${letters.toUpperCase()} found in ${quote(final)}` };
    },
  }),

  answered: defineCheck({
    kind: 'outcome',
    description: 'There is a final answer of at least `minWords` words that is more than an acknowledgement ("Done.", "OK"): for questions with no right answer.',
    params: z.object({ minWords: z.number().int().positive().default(1), name }),
    run: ({ minWords }, ctx) => {
      const final = transcriptOf(ctx).final;
      if (final === null || final.trim() === '') return { passed: false, detail: 'no final answer' };
      if (ACKNOWLEDGEMENTS.has(final.trim().toLowerCase().replace(/[.!\s]+$/, ''))) return { passed: false, detail: `${quote(final)} acknowledges without answering` };
      const words = wordCount(final);
      return words >= minWords ? { passed: true } : { passed: false, detail: `${words} words, expected at least ${minWords}` };
    },
  }),
};
