import { z } from 'zod';
import type { ModelCall } from '../../../core/index.ts';
import { engineTokens } from '../../trajectory/index.ts';
import { pq, type ParquetColumns } from '../parquet.ts';
import { Floats, GroupColumns, GroupParquetColumns, Logprobs, Mask, nonEmpty, sameLength, TokenIds, zeroOffMask } from '../schemas.ts';
import { callSampleId, defineTarget, groupColumns, segmentSampleId, segmentsOf, splitAtPrompt, stopReason, type ExportUnit } from '../unit.ts';

// SkyRL's GeneratorOutput (skyrl/train/generators/base.py), one row per sample: the columns of a
// batch of rows are a GeneratorOutput. Rewards are per token: the rollout's reward on the last
// token of its last sample, zeros elsewhere, so a rollout that spans several samples (drift, or
// the step-wise variant) is credited once; `trajectory_ids` + `is_last_step` let SkyRL broadcast
// the last step's advantage to the others (generator.step_wise_trajectories=true).

const SkyrlRow = z
  .strictObject({
    prompt_token_ids: TokenIds,
    response_ids: TokenIds,
    loss_masks: Mask,
    rewards: Floats,
    rollout_logprobs: Logprobs.nullable(),
    stop_reasons: z.string(),
    trajectory_ids: z.strictObject({ instance_id: z.string().min(1), repetition_id: z.number().int().nonnegative() }),
    is_last_step: z.boolean(),
    ...GroupColumns,
  })
  .superRefine((row, ctx) => {
    nonEmpty(ctx, 'prompt_token_ids', row.prompt_token_ids);
    sameLength(ctx, { response_ids: row.response_ids, loss_masks: row.loss_masks, rewards: row.rewards, rollout_logprobs: row.rollout_logprobs });
    zeroOffMask(ctx, { rollout_logprobs: row.rollout_logprobs }, row.loss_masks);
    const nonZero = row.rewards.findIndex((r, i) => r !== 0 && (!row.is_last_step || i !== row.rewards.length - 1));
    if (nonZero >= 0) ctx.addIssue({ code: 'custom', path: ['rewards', nonZero], message: 'a reward may only sit on the last token of a trajectory\'s last step' });
  });
export type SkyrlRow = z.infer<typeof SkyrlRow>;

const columns: ParquetColumns = {
  prompt_token_ids: pq.list(pq.int()),
  response_ids: pq.list(pq.int()),
  loss_masks: pq.list(pq.int()),
  rewards: pq.list(pq.double()),
  rollout_logprobs: pq.nullable(pq.list(pq.double())),
  stop_reasons: pq.string(),
  trajectory_ids: pq.struct({ instance_id: pq.string(), repetition_id: pq.int() }),
  is_last_step: pq.bool(),
  ...GroupParquetColumns,
};

function rewardsFor(length: number, last: boolean, reward: number): number[] {
  const rewards = new Array<number>(length).fill(0);
  if (last && length > 0) rewards[length - 1] = reward;
  return rewards;
}

function trajectoryId(unit: ExportUnit) {
  return { instance_id: unit.group.id, repetition_id: unit.group.repetition };
}

/** Default: one sample per merged segment (one per rollout unless its prompts drifted). */
export const skyrl = defineTarget<SkyrlRow>({
  name: 'skyrl',
  variant: 'trajectory',
  description: 'SkyRL GeneratorOutput rows, one per merged segment: prompt_token_ids, response_ids, loss_masks, rewards, rollout_logprobs',
  needs: { tokens: true, logprobs: false, temperature: false },
  schema: SkyrlRow,
  columns,
  rows: (unit) => {
    const segments = segmentsOf(unit);
    return segments.map((segment) => {
      const split = splitAtPrompt(segment);
      const last = segment.index === segments.length - 1;
      return {
        prompt_token_ids: split.promptIds,
        response_ids: split.responseIds,
        loss_masks: split.responseMask,
        rewards: rewardsFor(split.responseIds.length, last, unit.reward),
        rollout_logprobs: split.responseLogprobs,
        stop_reasons: stopReason(segment.spans.at(-1)?.finishReason ?? 'other'),
        trajectory_ids: trajectoryId(unit),
        is_last_step: last,
        ...groupColumns(unit, segmentSampleId(unit.rollout.id, segment.index)),
      };
    });
  },
});

/** SkyRL step-wise training: one sample per model call, the prompt as the engine saw it and the exact completion. */
export const skyrlStepWise = defineTarget<SkyrlRow>({
  name: 'skyrl',
  variant: 'step-wise',
  description: 'SkyRL step-wise GeneratorOutput rows, one per model call (generator.step_wise_trajectories=true)',
  needs: { tokens: true, logprobs: false, temperature: false, callTokens: true },
  schema: SkyrlRow,
  columns,
  rows: (unit) =>
    unit.calls.map((call: ModelCall, i) => {
      const found = engineTokens(call);
      if (!found.ok) throw new Error(`rollout ${unit.rollout.id}: ${found.detail}`);
      const { promptIds, completionIds, logprobs } = found.tokens;
      const last = i === unit.calls.length - 1;
      return {
        prompt_token_ids: [...promptIds],
        response_ids: [...completionIds],
        loss_masks: completionIds.map(() => 1),
        rewards: rewardsFor(completionIds.length, last, unit.reward),
        rollout_logprobs: logprobs ? [...logprobs] : null,
        stop_reasons: stopReason(call.response?.finishReason ?? 'other'),
        trajectory_ids: trajectoryId(unit),
        is_last_step: last,
        ...groupColumns(unit, callSampleId(unit.rollout.id, call.index)),
      };
    }),
});
