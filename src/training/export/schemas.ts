import { z } from 'zod';
import { describeZodIssues } from '../../core/index.ts';
import { pq } from './parquet.ts';

// Building blocks of the per-trainer row schemas. Every row is checked before it is written:
// a row that fails is a bug in the export, so it stops the export instead of reaching a trainer.

/** The largest token id a row carries: Parquet columns are int32, and no vocabulary comes near it. */
export const MAX_TOKEN_ID = 2 ** 31 - 1;

export const TokenIds = z.array(z.number().int().nonnegative().max(MAX_TOKEN_ID));
export const Mask = z.array(z.number().int().min(0).max(1));
export const BoolMask = z.array(z.boolean());
export const Logprobs = z.array(z.number().max(0));
export const Floats = z.array(z.number());

type Issues = z.core.$RefinementCtx;

/** Arrays that must line up token for token. */
export function sameLength(ctx: Issues, arrays: Record<string, readonly unknown[] | null>): void {
  const present = Object.entries(arrays).filter((e): e is [string, readonly unknown[]] => e[1] !== null);
  const [first] = present;
  if (!first) return;
  for (const [name, array] of present) {
    if (array.length !== first[1].length) ctx.addIssue({ code: 'custom', path: [name], message: `has ${array.length} entries, ${first[0]} has ${first[1].length}` });
  }
}

/** Logprobs (or advantages) exist only where the token was sampled: 0.0 wherever the mask is off. */
export function zeroOffMask(ctx: Issues, arrays: Record<string, readonly number[] | null>, mask: readonly (number | boolean)[]): void {
  for (const [name, values] of Object.entries(arrays)) {
    const bad = values ? values.findIndex((v, i) => v !== 0 && !mask[i]) : -1;
    if (bad >= 0) ctx.addIssue({ code: 'custom', path: [name, bad], message: `is ${values?.[bad]} on a token the mask leaves out (expected 0)` });
  }
}

export function nonEmpty(ctx: Issues, name: string, array: readonly unknown[]): void {
  if (array.length === 0) ctx.addIssue({ code: 'custom', path: [name], message: 'is empty' });
}

/** The group and reward columns every RL export carries next to the trainer's own fields. */
export const GroupColumns = {
  group_id: z.string().min(1),
  rollout_id: z.string().min(1),
  sample_id: z.string().min(1),
  reward: z.number(),
  advantage: z.number(),
};

/** GroupColumns as Parquet columns. */
export const GroupParquetColumns = {
  group_id: pq.string(),
  rollout_id: pq.string(),
  sample_id: pq.string(),
  reward: pq.double(),
  advantage: pq.double(),
};

export function checkRow<T>(schema: z.ZodType<T>, row: unknown, where: string): T {
  const result = schema.safeParse(row);
  if (result.success) return result.data;
  throw new Error(`export row ${where} fails its schema:\n${describeZodIssues(result.error.issues)}`);
}
