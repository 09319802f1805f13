import { z } from 'zod';
import { engineTokens } from '../../trajectory/index.ts';
import { ChatMessage, chatMessage, chatMessageColumn } from '../chat.ts';
import { pq } from '../parquet.ts';
import { BoolMask, Floats, GroupColumns, GroupParquetColumns, Logprobs, Mask, nonEmpty, sameLength, TokenIds, zeroOffMask } from '../schemas.ts';
import { callSampleId, defineTarget, groupColumns, segmentSampleId, segmentsOf, temperatureOf } from '../unit.ts';

// prime-rl. `training-sample` (transports/rollouts/types.py TrainingSample): one flat sequence
// per branch with mask, logprobs, temperatures and per-token advantages all as long as token_ids.
// `legacy` (verifiers.legacy TrajectoryStep): one record per model call with its own token block,
// which prime-rl before its v1 traces merged by exact prefix itself.

const PrimeSampleRow = z
  .strictObject({
    token_ids: TokenIds,
    mask: BoolMask,
    logprobs: Logprobs,
    // prime-rl divides each token's logits by its temperature.
    temperatures: z.array(z.number().positive()),
    env_name: z.string(),
    advantages: Floats,
    ...GroupColumns,
  })
  .superRefine((row, ctx) => {
    nonEmpty(ctx, 'token_ids', row.token_ids);
    sameLength(ctx, { token_ids: row.token_ids, mask: row.mask, logprobs: row.logprobs, temperatures: row.temperatures, advantages: row.advantages });
    zeroOffMask(ctx, { logprobs: row.logprobs, advantages: row.advantages }, row.mask);
  });
export type PrimeSampleRow = z.infer<typeof PrimeSampleRow>;

export const primeTrainingSample = defineTarget<PrimeSampleRow>({
  name: 'prime-rl',
  variant: 'training-sample',
  description: 'prime-rl TrainingSample rows: token_ids, mask, logprobs, temperatures, advantages (all full length), env_name',
  needs: { tokens: true, logprobs: true, temperature: true },
  schema: PrimeSampleRow,
  columns: {
    token_ids: pq.list(pq.int()),
    mask: pq.list(pq.bool()),
    logprobs: pq.list(pq.double()),
    temperatures: pq.list(pq.double()),
    env_name: pq.string(),
    advantages: pq.list(pq.double()),
    ...GroupParquetColumns,
  },
  rows: (unit) =>
    segmentsOf(unit).map((segment) => {
      const temperatures = new Array<number>(segment.tokenIds.length);
      for (const span of segment.spans) {
        const t = temperatureOf(span, unit);
        if (t === null) throw new Error(`rollout ${unit.rollout.id}: call ${span.callIndex} recorded no temperature`);
        // Context tokens take the temperature of the call whose prompt they end.
        temperatures.fill(t, span.start, span.end);
      }
      return {
        token_ids: segment.tokenIds,
        mask: segment.lossMask.map((m) => m === 1),
        logprobs: segment.logprobs ?? [],
        temperatures,
        env_name: unit.rollout.env,
        // The rollout's advantage broadcast over its sampled tokens.
        advantages: segment.lossMask.map((m) => (m === 1 ? unit.advantage : 0)),
        ...groupColumns(unit, segmentSampleId(unit.rollout.id, segment.index)),
      };
    }),
});

const PrimeStepRow = z
  .strictObject({
    prompt: z.array(ChatMessage),
    completion: z.array(ChatMessage),
    tokens: z
      .strictObject({
        prompt_ids: TokenIds,
        prompt_mask: Mask,
        completion_ids: TokenIds,
        completion_mask: Mask,
        completion_logprobs: Logprobs,
        overlong_prompt: z.boolean(),
        is_truncated: z.boolean(),
      })
      .superRefine((t, ctx) => {
        nonEmpty(ctx, 'prompt_ids', t.prompt_ids);
        sameLength(ctx, { prompt_ids: t.prompt_ids, prompt_mask: t.prompt_mask });
        sameLength(ctx, { completion_ids: t.completion_ids, completion_mask: t.completion_mask, completion_logprobs: t.completion_logprobs });
        if (t.prompt_mask.some((m) => m !== 0)) ctx.addIssue({ code: 'custom', path: ['prompt_mask'], message: 'must be all 0' });
      }),
    is_truncated: z.boolean(),
    trajectory_id: z.string().min(1),
    ...GroupColumns,
  });
export type PrimeStepRow = z.infer<typeof PrimeStepRow>;

export const primeLegacy = defineTarget<PrimeStepRow>({
  name: 'prime-rl',
  variant: 'legacy',
  description: 'verifiers legacy TrajectoryStep rows, one per model call: prompt, completion, tokens{prompt_ids, prompt_mask, completion_ids, completion_mask, completion_logprobs}, reward, advantage',
  needs: { tokens: true, logprobs: true, temperature: false, callTokens: true },
  schema: PrimeStepRow,
  columns: {
    prompt: pq.list(chatMessageColumn),
    completion: pq.list(chatMessageColumn),
    tokens: pq.struct({
      prompt_ids: pq.list(pq.int()),
      prompt_mask: pq.list(pq.int()),
      completion_ids: pq.list(pq.int()),
      completion_mask: pq.list(pq.int()),
      completion_logprobs: pq.list(pq.double()),
      overlong_prompt: pq.bool(),
      is_truncated: pq.bool(),
    }),
    is_truncated: pq.bool(),
    trajectory_id: pq.string(),
    ...GroupParquetColumns,
  },
  rows: (unit) =>
    unit.calls.map((call) => {
      const found = engineTokens(call);
      if (!found.ok) throw new Error(`rollout ${unit.rollout.id}: ${found.detail}`);
      const { promptIds, completionIds, logprobs } = found.tokens;
      const truncated = call.response?.finishReason === 'length';
      return {
        prompt: call.request.messages.map(chatMessage),
        completion: call.response ? [chatMessage(call.response.message)] : [],
        tokens: {
          prompt_ids: [...promptIds],
          prompt_mask: promptIds.map(() => 0),
          completion_ids: [...completionIds],
          completion_mask: completionIds.map(() => 1),
          completion_logprobs: logprobs ? [...logprobs] : [],
          // The engine served the call, so its prompt fit.
          overlong_prompt: false,
          is_truncated: truncated,
        },
        is_truncated: truncated,
        trajectory_id: unit.rollout.id,
        ...groupColumns(unit, callSampleId(unit.rollout.id, call.index)),
      };
    }),
});
