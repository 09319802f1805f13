import { z } from 'zod';
import { pq } from '../parquet.ts';
import { GroupColumns, GroupParquetColumns, Logprobs, Mask, nonEmpty, sameLength, TokenIds, zeroOffMask } from '../schemas.ts';
import { defineTarget, groupColumns, integerVersions, segmentSampleId, segmentsOf, splitAtPrompt } from '../unit.ts';

// verl's AgentLoopOutput (verl/experimental/agent_loop/agent_loop.py): the first call's prompt,
// then every later token as the "response" (sampled tokens mask 1, tool/env tokens mask 0),
// logprobs aligned to the response with 0.0 on env tokens, and the reward verl places on the last
// response token. `uid` is verl's group key for GRPO. One row per segment.

const VerlRow = z
  .strictObject({
    uid: z.string().min(1),
    prompt_ids: TokenIds,
    response_ids: TokenIds,
    response_mask: Mask,
    response_logprobs: Logprobs.nullable(),
    reward_score: z.number(),
    num_turns: z.number().int().nonnegative(),
    data_source: z.string(),
    min_global_steps: z.number().int().nullable(),
    max_global_steps: z.number().int().nullable(),
    segment_index: z.number().int().nonnegative(),
    is_last_segment: z.boolean(),
    ...GroupColumns,
  })
  .superRefine((row, ctx) => {
    nonEmpty(ctx, 'prompt_ids', row.prompt_ids);
    sameLength(ctx, { response_ids: row.response_ids, response_mask: row.response_mask, response_logprobs: row.response_logprobs });
    zeroOffMask(ctx, { response_logprobs: row.response_logprobs }, row.response_mask);
  });
export type VerlRow = z.infer<typeof VerlRow>;

export const verl = defineTarget<VerlRow>({
  name: 'verl',
  variant: 'agent-loop',
  description: 'verl AgentLoopOutput rows: prompt_ids, response_ids, response_mask, response_logprobs, reward_score, uid',
  needs: { tokens: true, logprobs: false, temperature: false },
  schema: VerlRow,
  columns: {
    uid: pq.string(),
    prompt_ids: pq.list(pq.int()),
    response_ids: pq.list(pq.int()),
    response_mask: pq.list(pq.int()),
    response_logprobs: pq.nullable(pq.list(pq.double())),
    reward_score: pq.double(),
    num_turns: pq.int(),
    data_source: pq.string(),
    min_global_steps: pq.nullable(pq.int64()),
    max_global_steps: pq.nullable(pq.int64()),
    segment_index: pq.int(),
    is_last_segment: pq.bool(),
    ...GroupParquetColumns,
  },
  rows: (unit) => {
    const segments = segmentsOf(unit);
    return segments.map((segment) => {
      const split = splitAtPrompt(segment);
      const last = unit.calls.find((c) => c.id === segment.spans.at(-1)?.modelCallId);
      const versions = integerVersions(segment.spans);
      return {
        uid: unit.group.id,
        prompt_ids: split.promptIds,
        response_ids: split.responseIds,
        response_mask: split.responseMask,
        response_logprobs: split.responseLogprobs,
        reward_score: unit.reward,
        // verl counts user, assistant and tool messages, the final response included.
        num_turns: (last?.request.messages.filter((m) => m.role !== 'system').length ?? 0) + 1,
        data_source: unit.rollout.env,
        min_global_steps: versions?.min ?? null,
        max_global_steps: versions?.max ?? null,
        segment_index: segment.index,
        is_last_segment: segment.index === segments.length - 1,
        ...groupColumns(unit, segmentSampleId(unit.rollout.id, segment.index)),
      };
    });
  },
});
