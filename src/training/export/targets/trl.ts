import { z } from 'zod';
import { pq } from '../parquet.ts';
import { GroupColumns, GroupParquetColumns, Logprobs, Mask, nonEmpty, sameLength, TokenIds, zeroOffMask } from '../schemas.ts';
import { defineTarget, groupColumns, oldestStep, segmentSampleId, segmentsOf, splitAtPrompt } from '../unit.ts';

// TRL, two ways in. `rollout-func` (GRPOTrainer's rollout_func return value, one row per sample):
// prompt_ids, completion_ids holding every token after the prompt (tool tokens included),
// logprobs aligned to the completion and env_mask 1 on model tokens. `async` (the async GRPO
// trainer's RolloutSample): the full sequence with completion_mask and old_log_probs aligned
// token for token, the advantage, and the policy version for its staleness check.

const TrlRolloutFuncRow = z
  .strictObject({
    prompt_ids: TokenIds,
    completion_ids: TokenIds,
    logprobs: Logprobs,
    env_mask: Mask,
    ...GroupColumns,
  })
  .superRefine((row, ctx) => {
    nonEmpty(ctx, 'prompt_ids', row.prompt_ids);
    sameLength(ctx, { completion_ids: row.completion_ids, logprobs: row.logprobs, env_mask: row.env_mask });
    zeroOffMask(ctx, { logprobs: row.logprobs }, row.env_mask);
  });
export type TrlRolloutFuncRow = z.infer<typeof TrlRolloutFuncRow>;

export const trlRolloutFunc = defineTarget<TrlRolloutFuncRow>({
  name: 'trl',
  variant: 'rollout-func',
  description: 'TRL GRPOTrainer rollout_func rows: prompt_ids, completion_ids, logprobs (completion-aligned), env_mask',
  needs: { tokens: true, logprobs: true, temperature: false },
  schema: TrlRolloutFuncRow,
  columns: {
    prompt_ids: pq.list(pq.int()),
    completion_ids: pq.list(pq.int()),
    logprobs: pq.list(pq.double()),
    env_mask: pq.list(pq.int()),
    ...GroupParquetColumns,
  },
  rows: (unit) =>
    segmentsOf(unit).map((segment) => {
      const split = splitAtPrompt(segment);
      return {
        prompt_ids: split.promptIds,
        completion_ids: split.responseIds,
        logprobs: split.responseLogprobs ?? [],
        env_mask: split.responseMask,
        ...groupColumns(unit, segmentSampleId(unit.rollout.id, segment.index)),
      };
    }),
});

const TrlAsyncRow = z
  .strictObject({
    input_ids: TokenIds,
    completion_mask: Mask,
    old_log_probs: Logprobs,
    // TRL subtracts it from its own step to drop stale samples: an int, never null.
    model_version: z.number().int().nonnegative(),
    ...GroupColumns,
  })
  .superRefine((row, ctx) => {
    nonEmpty(ctx, 'input_ids', row.input_ids);
    sameLength(ctx, { input_ids: row.input_ids, completion_mask: row.completion_mask, old_log_probs: row.old_log_probs });
    zeroOffMask(ctx, { old_log_probs: row.old_log_probs }, row.completion_mask);
  });
export type TrlAsyncRow = z.infer<typeof TrlAsyncRow>;

export const trlAsync = defineTarget<TrlAsyncRow>({
  name: 'trl',
  variant: 'async',
  description: 'TRL async GRPO RolloutSample rows: input_ids, completion_mask, old_log_probs (full length), advantage, model_version',
  needs: { tokens: true, logprobs: true, temperature: false, policyVersion: true },
  schema: TrlAsyncRow,
  columns: {
    input_ids: pq.list(pq.int()),
    completion_mask: pq.list(pq.int()),
    old_log_probs: pq.list(pq.double()),
    model_version: pq.int64(),
    ...GroupParquetColumns,
  },
  rows: (unit) =>
    segmentsOf(unit).map((segment) => ({
      input_ids: segment.tokenIds,
      completion_mask: segment.lossMask,
      old_log_probs: segment.logprobs ?? [],
      // Staleness is decided by the oldest tokens in the sample.
      model_version: oldestStep(segment.spans, unit),
      ...groupColumns(unit, segmentSampleId(unit.rollout.id, segment.index)),
    })),
});
