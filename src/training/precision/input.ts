// Reading the two logprob files: JSONL, one sequence per line, matched by id. The inference file is
// held in memory (compactly, as typed arrays) and the trainer file is streamed against it, so only
// one side of a large comparison is ever resident.
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { InputError, errorMessage } from '../../core/index.ts';
import { generic, GENERIC_SCHEMA_VERSION } from '../export/targets/generic.ts';
import { comparedTokenProblem, type ComparedSequence } from './metrics.ts';

// Python's json module writes NaN, Infinity and -Infinity as bare words, which JSON.parse rejects.
// They are swapped for these markers before parsing so the error can name the position instead.
const NON_FINITE: Record<string, string> = { '\u0000NaN': 'NaN', '\u0000Infinity': '+Infinity', '\u0000-Infinity': '-Infinity' };
const MAX_TOKEN_ID = 2 ** 31 - 1;

/** A logprob with no value to compare (NaN, −∞): accepted only where the line's mask is 0. */
interface Uncomparable {
  uncomparable: string;
}

// Trainers often write −∞ (or NaN) where nothing was sampled, such as the first prompt token, which
// has no context: that is as good as null at a position masked 0, like any stand-in there.
const Logprob = z.unknown().transform((value, ctx): number | null | Uncomparable => {
  const fail = (what: string) => {
    ctx.addIssue({ code: 'custom', message: `${what} (expected a finite logprob ≤ 0, or null where nothing is compared)` });
    return z.NEVER;
  };
  if (value === null) return null;
  if (typeof value === 'string') {
    const word = NON_FINITE[value];
    if (word === 'NaN' || word === '-Infinity') return { uncomparable: word };
    return fail(word ?? `the string ${JSON.stringify(value)}`);
  }
  if (typeof value !== 'number') return fail(`got ${JSON.stringify(value)}`);
  // JSON.parse reads -1e400 as −∞ and 1e400 as +∞.
  if (value === Number.NEGATIVE_INFINITY) return { uncomparable: '-Infinity' };
  if (!Number.isFinite(value)) return fail('+Infinity');
  if (value > 0) return fail(`positive (${value})`);
  return value;
});

const TokenIds = z.array(z.number().int().min(0).max(MAX_TOKEN_ID));

// A row of `gauntlet export --for generic` is read as it is: sample_id is the id, loss_mask the mask
// (1 on sampled tokens only), and its other fields are known and left alone. Elsewhere a key this
// format does not know is refused: dropping a misspelt "mask" would silently compare prompt tokens.
const GENERIC_ROW_KEYS: readonly string[] = generic.schema instanceof z.ZodObject ? Object.keys(generic.schema.shape) : [];
const LINE_KEYS = ['id', 'sample_id', 'tokenIds', 'token_ids', 'logprobs', 'mask', 'loss_mask'];
const EXPECTED_KEYS = `id, tokenIds (or token_ids), logprobs and optionally mask; or a row of \`gauntlet export --for generic\` (sample_id, token_ids, logprobs, loss_mask)`;

const Mask = z.array(z.union([z.literal(0), z.literal(1), z.boolean()]).transform(Number));

/** One line of a precision input file: Gauntlet's own shape, or a row of the generic training export. */
export const PrecisionLine = z
  .looseObject({
    id: z.union([z.string().min(1), z.number().int()]).transform(String).optional(),
    sample_id: z.string().min(1).optional(),
    tokenIds: TokenIds.optional(),
    token_ids: TokenIds.optional(),
    logprobs: z.array(Logprob).nullable(),
    mask: Mask.optional(),
    loss_mask: Mask.optional(),
  })
  .superRefine((line, ctx) => {
    const exportRow = 'schema_version' in line;
    if (exportRow && line.schema_version !== GENERIC_SCHEMA_VERSION) {
      ctx.addIssue({ code: 'custom', path: ['schema_version'], message: `got ${JSON.stringify(line.schema_version)} (expected ${GENERIC_SCHEMA_VERSION}, the generic export this Gauntlet writes)` });
      return;
    }
    const unknown = Object.keys(line).filter((key) => !LINE_KEYS.includes(key) && !(exportRow && GENERIC_ROW_KEYS.includes(key)));
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', path: [], message: `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected ${EXPECTED_KEYS})` });
      return;
    }
    for (const [a, b] of [['id', 'sample_id'], ['tokenIds', 'token_ids'], ['mask', 'loss_mask']] as const) {
      if (line[a] !== undefined && line[b] !== undefined) ctx.addIssue({ code: 'custom', path: [b], message: `both ${a} and ${b} are given (expected one of them)` });
    }
    if (line.id === undefined && line.sample_id === undefined) ctx.addIssue({ code: 'custom', path: ['id'], message: 'missing (expected id, or sample_id as the generic export writes it: the key that pairs the two files\' lines)' });
    const ids = line.tokenIds ?? line.token_ids;
    const mask = line.mask ?? line.loss_mask;
    if (!ids) {
      ctx.addIssue({ code: 'custom', path: ['tokenIds'], message: 'missing (expected tokenIds or token_ids: the token ids the engine produced)' });
      return;
    }
    if (line.logprobs === null) {
      // The generic export writes null where the engine returned no logprobs: counted and shown, not compared.
      if (!exportRow) ctx.addIssue({ code: 'custom', path: ['logprobs'], message: 'null (expected one logprob per token id)' });
      return;
    }
    if (line.logprobs.length !== ids.length) {
      ctx.addIssue({ code: 'custom', path: ['logprobs'], message: `has ${line.logprobs.length} entries for ${ids.length} token ids (expected one per token id)` });
      return;
    }
    if (mask && mask.length !== ids.length) {
      ctx.addIssue({ code: 'custom', path: [line.mask ? 'mask' : 'loss_mask'], message: `has ${mask.length} entries for ${ids.length} token ids (expected one per token id)` });
      return;
    }
    line.logprobs.forEach((lp, i) => {
      if ((mask?.[i] ?? 1) !== 1) return;
      if (lp === null) ctx.addIssue({ code: 'custom', path: ['logprobs', i], message: 'null at a compared position (expected a logprob, or mask 0 there)' });
      else if (typeof lp === 'object') {
        ctx.addIssue({ code: 'custom', path: ['logprobs', i], message: `${lp.uncomparable} at a compared position (expected a finite logprob ≤ 0, or mask 0 there)` });
      }
    });
  })
  .transform((line) => ({
    id: (line.id ?? line.sample_id) as string,
    tokenIds: (line.tokenIds ?? line.token_ids) as number[],
    logprobs: line.logprobs,
    ...(line.mask ?? line.loss_mask ? { mask: (line.mask ?? line.loss_mask) as number[] } : {}),
  }));

export interface PrecisionFiles {
  inference: string;
  trainer: string;
}

export interface PairingSummary {
  inference: string;
  trainer: string;
  /** Sequences found in both files. */
  matched: number;
  /** Ids found in one file only (the first ten of each, with the full counts). */
  onlyInInference: { count: number; ids: string[] };
  onlyInTrainer: { count: number; ids: string[] };
  /** Positions one file marks as compared and the other does not (both files having masks). */
  maskDisagreements: number;
  /** Matched sequences with no position compared by both. */
  withoutComparedTokens: number;
  /** Matched sequences left uncompared because a generic export row holds no logprobs for them (the first ten, with the count). */
  withoutLogprobs: { count: number; ids: string[] };
}

interface StoredSequence {
  line: number;
  tokenIds: Int32Array;
  /** NaN where the file had null, NaN or −∞ (only at positions its mask leaves out); null where an export row has none. */
  logprobs: Float64Array | null;
  mask: Uint8Array | null;
}

const SHOWN_IDS = 10;

/** Swaps the bare words NaN / Infinity / -Infinity outside strings for markers JSON.parse accepts. */
function markNonFinite(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const word = ['NaN', 'Infinity', '-Infinity'].find((w) => text.startsWith(w, i));
    if (word) {
      out += JSON.stringify(`\u0000${word}`);
      i += word.length - 1;
    } else out += c;
  }
  return out;
}

function parseJsonLine(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    try {
      return JSON.parse(markNonFinite(text));
    } catch {
      throw new InputError(where, `not valid JSON (${errorMessage(error)})`, 'one JSON object per line');
    }
  }
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    return `${path || '(line)'}: ${issue.message}`;
  });
  if (issues.length > shown.length) shown.push(`… and ${issues.length - shown.length} more`);
  return shown.join('; ');
}

/** Each non-blank line of a JSONL file, validated, with its 1-based line number. */
async function* readSequences(file: string): AsyncGenerator<{ id: string; where: string; sequence: StoredSequence }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new InputError(file, `cannot read the file (${errorMessage(error)})`, 'a JSONL file of per-token logprobs');
  }
  try {
    let line = 0;
    for await (const raw of handle.readLines({ encoding: 'utf8' })) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      const where = `${file}:${line}`;
      const parsed = PrecisionLine.safeParse(parseJsonLine(text, where));
      if (!parsed.success) throw new InputError(where, describeIssues(parsed.error.issues));
      const value = parsed.data;
      yield {
        id: value.id,
        where,
        sequence: {
          line,
          tokenIds: Int32Array.from(value.tokenIds),
          logprobs: value.logprobs && Float64Array.from(value.logprobs, (lp) => (typeof lp === 'number' ? lp : Number.NaN)),
          mask: value.mask ? Uint8Array.from(value.mask) : null,
        },
      };
    }
  } finally {
    await handle.close();
  }
}

function firstDifference(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function assertSameTokens(options: { id: string; where: string; inferenceFile: string; inference: StoredSequence; trainer: StoredSequence }): void {
  const { inference, trainer } = options;
  const at = firstDifference(inference.tokenIds, trainer.tokenIds);
  if (at < 0) return;
  const detail =
    at < Math.min(inference.tokenIds.length, trainer.tokenIds.length)
      ? `at position ${at} (${trainer.tokenIds[at]} here, ${inference.tokenIds[at]} in ${options.inferenceFile}:${inference.line})`
      : `in length (${trainer.tokenIds.length} here, ${inference.tokenIds.length} in ${options.inferenceFile}:${inference.line}; they agree up to position ${at})`;
  throw new InputError(
    options.where,
    `the token ids of "${options.id}" differ from the inference file's ${detail}. The trainer re-tokenised the sequence: logprobs of different tokens cannot be compared, and training on them is the bug to fix`,
    'the exact token ids the inference engine produced',
  );
}

/**
 * Matches the two files' lines by id and hands each matched pair to `onSequence`, compared where
 * both masks are 1 (a missing mask compares every position). Token ids must match exactly.
 */
export async function pairFiles(files: PrecisionFiles, onSequence: (sequence: ComparedSequence) => void): Promise<PairingSummary> {
  const inference = new Map<string, StoredSequence>();
  for await (const { id, where, sequence } of readSequences(files.inference)) {
    const earlier = inference.get(id);
    if (earlier) throw new InputError(where, `the id "${id}" was already used on line ${earlier.line}`, 'one line per sequence id');
    inference.set(id, sequence);
  }
  const seen = new Map<string, number>();
  const onlyInTrainer: string[] = [];
  let matched = 0;
  let maskDisagreements = 0;
  let withoutComparedTokens = 0;
  const withoutLogprobs: string[] = [];
  for await (const { id, where, sequence: trainer } of readSequences(files.trainer)) {
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new InputError(where, `the id "${id}" was already used on line ${earlier}`, 'one line per sequence id');
    seen.set(id, trainer.line);
    const inf = inference.get(id);
    if (!inf) {
      onlyInTrainer.push(id);
      continue;
    }
    assertSameTokens({ id, where, inferenceFile: files.inference, inference: inf, trainer });
    inference.delete(id);
    matched++;
    if (!inf.logprobs || !trainer.logprobs) {
      withoutLogprobs.push(id);
      continue;
    }
    const inferenceLogprobs = inf.logprobs;
    const trainerLogprobs = trainer.logprobs;
    const compare = new Uint8Array(trainer.tokenIds.length);
    let compared = 0;
    for (let i = 0; i < compare.length; i++) {
      const a = inf.mask ? inf.mask[i] : 1;
      const b = trainer.mask ? trainer.mask[i] : 1;
      if (inf.mask && trainer.mask && a !== b) maskDisagreements++;
      compare[i] = a === 1 && b === 1 ? 1 : 0;
      compared += compare[i] as number;
      const problem = compare[i] === 1 ? comparedTokenProblem(inferenceLogprobs[i] as number, trainerLogprobs[i] as number) : null;
      if (problem) throw new InputError(`${where}, position ${i}`, `${problem}; the inference logprob is from ${files.inference}:${inf.line}`);
    }
    if (compared === 0) withoutComparedTokens++;
    onSequence({ id, tokenIds: trainer.tokenIds, inference: inferenceLogprobs, trainer: trainerLogprobs, compare });
  }
  const onlyInInference = [...inference.keys()];
  return {
    inference: files.inference,
    trainer: files.trainer,
    matched,
    onlyInInference: { count: onlyInInference.length, ids: onlyInInference.slice(0, SHOWN_IDS) },
    onlyInTrainer: { count: onlyInTrainer.length, ids: onlyInTrainer.slice(0, SHOWN_IDS) },
    maskDisagreements,
    withoutComparedTokens,
    withoutLogprobs: { count: withoutLogprobs.length, ids: withoutLogprobs.slice(0, SHOWN_IDS) },
  };
}
