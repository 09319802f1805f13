// Checklist checks: binary checks over the trajectory that encode "followed the system prompt's
// constraints" and "did what the user explicitly asked". A task fails on any violated check, and
// each check is its own named result, so reports can give the pass rate of each.
import { z } from 'zod';
import { defineCheck, type CheckDefinition } from '../define.ts';
import { extractFinalNumber, foldText, nonEmptyLines, numberMatches, wordCount } from './extract.ts';
import { checkScoped, name, Pattern, RegexFlags, ScopeParam } from './params.ts';
import { quote, transcriptOf } from './transcript.ts';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether `text` mentions `value`: case-insensitively unless asked, as a whole word where the
 * value starts or ends with a letter or digit ("cat" is not in "category"), and with `a|b`
 * meaning either.
 */
export function mentions(text: string, value: string, caseSensitive = false): boolean {
  const folded = foldText(text, caseSensitive);
  return value.split('|').some((alternative) => {
    const v = foldText(alternative.trim(), caseSensitive);
    if (v === '') return false;
    const start = /^[\p{L}\p{N}]/u.test(v) ? '(?<![\\p{L}\\p{N}])' : '';
    const end = /[\p{L}\p{N}]$/u.test(v) ? '(?![\\p{L}\\p{N}])' : '';
    return new RegExp(`${start}${escapeRegex(v)}${end}`, 'u').test(folded);
  });
}

const MARKDOWN: [string, RegExp][] = [
  ['a heading', /^\s{0,3}#{1,6}\s/m],
  ['bold or italic emphasis', /\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])/],
  ['a code fence', /```/],
  ['inline code', /`[^`\n]+`/],
  ['a link', /\[[^\]\n]+\]\([^)\n]+\)/],
  ['a table', /^\s*\|.*\|\s*$/m],
  ['a block quote', /^\s{0,3}>\s/m],
];

const FormatParams = z
  .object({
    format: z.enum(['json', 'bullet_list', 'numbered_list', 'no_markdown']),
    /** Lists: how many items. */
    minItems: z.number().int().nonnegative().optional(),
    maxItems: z.number().int().positive().optional(),
    /** JSON: keys the top-level object must have. */
    keys: z.array(z.string()).optional(),
    scope: ScopeParam.default('final'),
    name,
  })
  .refine((p) => p.minItems === undefined || p.maxItems === undefined || p.minItems <= p.maxItems, 'minItems must not exceed maxItems');
type FormatParams = z.infer<typeof FormatParams>;

function itemCountProblem(count: number, p: FormatParams): string | null {
  if (p.minItems !== undefined && count < p.minItems) return `${count} items, expected at least ${p.minItems}`;
  if (p.maxItems !== undefined && count > p.maxItems) return `${count} items, expected at most ${p.maxItems}`;
  return null;
}

/** Why `text` is not in the format, or null when it is. */
function formatProblem(text: string, p: FormatParams): string | null {
  const lines = nonEmptyLines(text);
  switch (p.format) {
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text.trim());
      } catch (error) {
        return `not valid JSON (${(error as Error).message.split('\n')[0]})`;
      }
      if (!p.keys || p.keys.length === 0) return null;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
      const missing = p.keys.filter((k) => !(k in value));
      return missing.length === 0 ? null : `JSON object lacks ${missing.join(', ')}`;
    }
    case 'bullet_list': {
      const stray = lines.find((l) => !/^[-*•+]\s+\S/.test(l));
      if (stray !== undefined) return `line ${quote(stray, 40)} is not a bullet ("- item")`;
      return itemCountProblem(lines.length, p);
    }
    case 'numbered_list': {
      const stray = lines.findIndex((l, i) => !new RegExp(`^${i + 1}[.)]\\s+\\S`).test(l));
      if (stray >= 0) return `line ${quote(lines[stray] ?? '', 40)} is not item ${stray + 1} ("${stray + 1}. item")`;
      return itemCountProblem(lines.length, p);
    }
    case 'no_markdown': {
      const found = MARKDOWN.filter(([, re]) => re.test(text)).map(([what]) => what);
      return found.length === 0 ? null : `uses markdown: ${found.join(', ')}`;
    }
  }
}

export const checklistChecks: Record<string, CheckDefinition> = {
  max_words: defineCheck({
    kind: 'outcome',
    description: 'At most `max` words (tokens with a letter or digit) in the final answer, or in each assistant message with scope every_assistant_message.',
    params: z.object({ max: z.number().int().positive(), scope: ScopeParam.default('final'), name }),
    run: ({ max, scope }, ctx) =>
      checkScoped(transcriptOf(ctx), scope, (text) => {
        const words = wordCount(text);
        return words <= max ? null : `${words} words, expected at most ${max}`;
      }),
  }),

  min_words: defineCheck({
    kind: 'outcome',
    description: 'At least `min` words in the final answer (or per `scope`).',
    params: z.object({ min: z.number().int().positive(), scope: ScopeParam.default('final'), name }),
    run: ({ min, scope }, ctx) =>
      checkScoped(transcriptOf(ctx), scope, (text) => {
        const words = wordCount(text);
        return words >= min ? null : `${words} words, expected at least ${min}`;
      }),
  }),

  line_count: defineCheck({
    kind: 'outcome',
    description: 'The number of non-empty lines is between `min` and `max` (final answer, or per `scope`).',
    params: z
      .object({ min: z.number().int().nonnegative().optional(), max: z.number().int().positive().optional(), scope: ScopeParam.default('final'), name })
      .refine((p) => p.min !== undefined || p.max !== undefined, 'give min, max or both'),
    run: ({ min, max, scope }, ctx) =>
      checkScoped(transcriptOf(ctx), scope, (text) => {
        const n = nonEmptyLines(text).length;
        if (min !== undefined && n < min) return `${n} lines, expected at least ${min}`;
        if (max !== undefined && n > max) return `${n} lines, expected at most ${max}`;
        return null;
      }),
  }),

  must_mention: defineCheck({
    kind: 'outcome',
    description:
      'Every one of `values` is mentioned (whole words, case-insensitive unless caseSensitive; "a|b" accepts either) in the final answer, or in some assistant message with scope any_assistant_message.',
    params: z.object({ values: z.array(z.string().min(1)).min(1), caseSensitive: z.boolean().default(false), scope: ScopeParam.default('final'), name }),
    run: ({ values, caseSensitive, scope }, ctx) =>
      checkScoped(transcriptOf(ctx), scope, (text) => {
        const missing = values.filter((v) => !mentions(text, v, caseSensitive));
        return missing.length === 0 ? null : `does not mention ${missing.join(', ')}`;
      }),
  }),

  must_not_mention: defineCheck({
    kind: 'outcome',
    description: 'None of `values` is mentioned in any assistant message (scope every_assistant_message, the default) or in the final answer (scope final).',
    params: z.object({ values: z.array(z.string().min(1)).min(1), caseSensitive: z.boolean().default(false), scope: ScopeParam.exclude(['any_assistant_message']).default('every_assistant_message'), name }),
    run: ({ values, caseSensitive, scope }, ctx) =>
      checkScoped(transcriptOf(ctx), scope, (text) => {
        const found = values.filter((v) => mentions(text, v, caseSensitive));
        return found.length === 0 ? null : `mentions ${found.join(', ')}`;
      }),
  }),

  format: defineCheck({
    kind: 'outcome',
    description:
      'The final answer (or each message, per `scope`) is strict JSON (with `keys` when given), a bullet list or a numbered list with nothing else on its lines (minItems/maxItems), or free of markdown (headings, emphasis, code, links, tables, quotes; plain "- " and "1." lists are allowed).',
    params: FormatParams,
    run: (params, ctx) => checkScoped(transcriptOf(ctx), params.scope, (text) => formatProblem(text, params)),
  }),

  ascii_only: defineCheck({
    kind: 'outcome',
    description: 'Only ASCII characters (no curly quotes, dashes, emoji or accents) in every assistant message (or per `scope`).',
    params: z.object({ scope: ScopeParam.default('every_assistant_message'), name }),
    run: ({ scope }, ctx) =>
      checkScoped(transcriptOf(ctx), scope, (text) => {
        const bad = [...text].find((c) => (c.codePointAt(0) ?? 0) > 0x7f);
        return bad === undefined ? null : `non-ASCII ${JSON.stringify(bad)} (U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`;
      }),
  }),

  turn_answer: defineCheck({
    kind: 'outcome',
    description:
      'The answer to user turn `turn` (1 = the instruction, 2 = the first follow-up …) mentions every one of `contains`, matches `regex`, and/or settles on `number` (± `tolerance`, read like answer_numeric).',
    params: z
      .object({
        turn: z.number().int().positive(),
        contains: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
        regex: Pattern.optional(),
        flags: RegexFlags,
        number: z.number().optional(),
        tolerance: z.number().nonnegative().default(1e-6),
        name,
      })
      .refine((p) => p.contains !== undefined || p.regex !== undefined || p.number !== undefined, 'give contains, regex or number'),
    run: ({ turn, contains, regex, flags, number, tolerance }, ctx) => {
      const { turns } = transcriptOf(ctx);
      const answer = turns[turn - 1];
      if (answer === undefined || answer === null) {
        return { passed: false, detail: `user turn ${turn} got no answer (the episode had ${turns.length} user turn${turns.length === 1 ? '' : 's'})` };
      }
      const wanted = contains === undefined ? [] : typeof contains === 'string' ? [contains] : contains;
      const missing = wanted.filter((v) => !mentions(answer, v));
      if (missing.length > 0) return { passed: false, detail: `turn ${turn} answer ${quote(answer)} does not mention ${missing.join(', ')}` };
      if (regex !== undefined && !new RegExp(regex, flags).test(answer)) return { passed: false, detail: `turn ${turn} answer ${quote(answer)} does not match /${regex}/${flags}` };
      if (number !== undefined) {
        const read = extractFinalNumber(answer);
        if (!read) return { passed: false, detail: `no number in the turn ${turn} answer ${quote(answer)}` };
        if (!numberMatches(read, number, tolerance)) return { passed: false, detail: `read ${read.text} from the turn ${turn} answer; expected ${number}` };
      }
      return { passed: true };
    },
  }),

  no_tool_calls: defineCheck({
    kind: 'outcome',
    description: 'The model made no tool calls (it was asked to answer directly).',
    params: z.object({ name }),
    run: (_params, ctx) => {
      const { toolCalls } = transcriptOf(ctx);
      return toolCalls === 0 ? { passed: true } : { passed: false, detail: `${toolCalls} tool call${toolCalls === 1 ? '' : 's'}` };
    },
  }),

  max_tool_calls: defineCheck({
    kind: 'outcome',
    description: 'The model made at most `max` tool calls.',
    params: z.object({ max: z.number().int().nonnegative(), name }),
    run: ({ max }, ctx) => {
      const { toolCalls } = transcriptOf(ctx);
      return toolCalls <= max ? { passed: true } : { passed: false, detail: `${toolCalls} tool calls, expected at most ${max}` };
    },
  }),

  system_rule: defineCheck({
    kind: 'outcome',
    description:
      'A rule from the system prompt or the user: every assistant message (or the final answer) must match `pattern` (mustMatch: true) or must not (mustMatch: false). `rule` says it in words for the report.',
    params: z.object({
      pattern: Pattern,
      flags: RegexFlags,
      mustMatch: z.boolean(),
      scope: ScopeParam.exclude(['any_assistant_message']).default('every_assistant_message'),
      rule: z.string().optional(),
      name,
    }),
    run: ({ pattern, flags, mustMatch, scope, rule }, ctx) => {
      const re = new RegExp(pattern, flags);
      const out = checkScoped(transcriptOf(ctx), scope, (text) => {
        if (re.test(text) === mustMatch) return null;
        const match = mustMatch ? null : re.exec(text);
        return mustMatch ? `${quote(text, 60)} does not match /${pattern}/${flags}` : `matches /${pattern}/${flags} at ${quote(match?.[0] ?? '', 30)}`;
      });
      return out.passed || !rule ? out : { passed: false, detail: `broke "${rule}": ${out.detail ?? ''}` };
    },
  }),
};
