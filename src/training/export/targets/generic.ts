import { z } from 'zod';
import { DriftCause, SegmentStart } from '../../trajectory/index.ts';
import { pq } from '../parquet.ts';
import { GroupColumns, GroupParquetColumns, Logprobs, Mask, nonEmpty, sameLength, TokenIds, zeroOffMask } from '../schemas.ts';
import { defineTarget, groupColumns, segmentSampleId, segmentsOf } from '../unit.ts';

// Gauntlet's own schema, documented field by field in docs/design/training-data.md: one row per
// merged segment with everything the trainer-specific rows hold (full-sequence alignment), plus
// where each call's tokens sit, why the segment began, and its place in the group's prefix tree.

export const GENERIC_SCHEMA_VERSION = 1;

const Span = z.strictObject({
  model_call_id: z.string(),
  call_index: z.number().int().nonnegative(),
  start: z.number().int().nonnegative(),
  completion_start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  policy_version: z.string().nullable(),
  temperature: z.number().nullable(),
  finish_reason: z.string(),
});

const GenericRow = z
  .strictObject({
    schema_version: z.literal(GENERIC_SCHEMA_VERSION),
    run_id: z.string(),
    task_id: z.string(),
    env: z.string(),
    epoch: z.number().int().nonnegative(),
    seed: z.number().int(),
    model: z.string(),
    scaffold: z.string(),
    termination_reason: z.string(),
    passed: z.boolean().nullable(),
    reward_terms: z.array(z.strictObject({ name: z.string(), value: z.number(), weight: z.number(), source: z.string() })),
    group_size: z.number().int().positive(),
    repetition_id: z.number().int().nonnegative(),
    advantage_method: z.string(),
    segment_index: z.number().int().nonnegative(),
    segment_count: z.number().int().positive(),
    started_by: SegmentStart,
    drift: z
      .strictObject({ cause: DriftCause, call_index: z.number().int(), turn: z.number().int(), position: z.number().int(), message_index: z.number().int().nullable(), detail: z.string() })
      .nullable(),
    token_ids: TokenIds,
    loss_mask: Mask,
    logprobs: Logprobs.nullable(),
    prompt_length: z.number().int().nonnegative(),
    calls: z.array(Span).min(1),
    prefix_parent_id: z.string().nullable(),
    prefix_shared_tokens: z.number().int().nonnegative(),
    ...GroupColumns,
  })
  .superRefine((row, ctx) => {
    nonEmpty(ctx, 'token_ids', row.token_ids);
    sameLength(ctx, { token_ids: row.token_ids, loss_mask: row.loss_mask, logprobs: row.logprobs });
    zeroOffMask(ctx, { logprobs: row.logprobs }, row.loss_mask);
    // The spans tile the sequence, and the mask is 1 exactly on their completions.
    let at = 0;
    row.calls.forEach((span, i) => {
      if (span.start !== at || span.completion_start < span.start || span.end < span.completion_start) {
        ctx.addIssue({ code: 'custom', path: ['calls', i], message: `span [${span.start}, ${span.completion_start}, ${span.end}) does not continue at ${at}` });
      }
      for (let k = span.start; k < span.end; k++) {
        if (row.loss_mask[k] !== (k >= span.completion_start ? 1 : 0)) {
          ctx.addIssue({ code: 'custom', path: ['loss_mask', k], message: `disagrees with call ${span.call_index}'s span` });
          break;
        }
      }
      at = span.end;
    });
    if (at !== row.token_ids.length) ctx.addIssue({ code: 'custom', path: ['calls'], message: `cover ${at} of ${row.token_ids.length} tokens` });
    if (row.prefix_shared_tokens > row.token_ids.length) ctx.addIssue({ code: 'custom', path: ['prefix_shared_tokens'], message: 'exceeds the sequence' });
  });
export type GenericRow = z.infer<typeof GenericRow>;

export const generic = defineTarget<GenericRow>({
  name: 'generic',
  variant: 'segments',
  description: 'Gauntlet generic rows, one per merged segment: token_ids, loss_mask, logprobs (full length), call spans, drift, prefix tree, group and advantage',
  needs: { tokens: true, logprobs: false, temperature: false },
  schema: GenericRow,
  columns: {
    schema_version: pq.int(),
    run_id: pq.string(),
    task_id: pq.string(),
    env: pq.string(),
    epoch: pq.int(),
    seed: pq.int64(),
    model: pq.string(),
    scaffold: pq.string(),
    termination_reason: pq.string(),
    passed: pq.nullable(pq.bool()),
    reward_terms: pq.list(pq.struct({ name: pq.string(), value: pq.double(), weight: pq.double(), source: pq.string() })),
    group_size: pq.int(),
    repetition_id: pq.int(),
    advantage_method: pq.string(),
    segment_index: pq.int(),
    segment_count: pq.int(),
    started_by: pq.string(),
    drift: pq.nullable(pq.struct({ cause: pq.string(), call_index: pq.int(), turn: pq.int(), position: pq.int(), message_index: pq.nullable(pq.int()), detail: pq.string() })),
    token_ids: pq.list(pq.int()),
    loss_mask: pq.list(pq.int()),
    logprobs: pq.nullable(pq.list(pq.double())),
    prompt_length: pq.int(),
    calls: pq.list(
      pq.struct({
        model_call_id: pq.string(),
        call_index: pq.int(),
        start: pq.int(),
        completion_start: pq.int(),
        end: pq.int(),
        policy_version: pq.nullable(pq.string()),
        temperature: pq.nullable(pq.double()),
        finish_reason: pq.string(),
      }),
    ),
    prefix_parent_id: pq.nullable(pq.string()),
    prefix_shared_tokens: pq.int(),
    ...GroupParquetColumns,
  },
  rows: (unit) => {
    const { rollout } = unit;
    const segments = segmentsOf(unit);
    const drift = unit.trajectory?.drift ?? [];
    return segments.map((segment) => {
      const first = segment.spans[0];
      const cause = drift.find((d) => d.modelCallId === first?.modelCallId);
      const prefix = unit.prefix[segment.index] ?? { parentSampleId: null, shared: 0 };
      return {
        schema_version: GENERIC_SCHEMA_VERSION,
        run_id: rollout.runId,
        task_id: rollout.taskId,
        env: rollout.env,
        epoch: rollout.epoch,
        seed: rollout.seed,
        model: rollout.model,
        scaffold: rollout.scaffold,
        termination_reason: rollout.terminationReason,
        passed: rollout.passed,
        reward_terms: rollout.rewardTerms.map((t) => ({ name: t.name, value: t.value, weight: t.weight, source: t.source })),
        group_size: unit.group.size,
        repetition_id: unit.group.repetition,
        advantage_method: unit.method,
        segment_index: segment.index,
        segment_count: segments.length,
        started_by: segment.startedBy,
        drift: cause
          ? { cause: cause.cause, call_index: cause.callIndex, turn: cause.turn, position: cause.position, message_index: cause.messageIndex, detail: cause.detail }
          : null,
        token_ids: segment.tokenIds,
        loss_mask: segment.lossMask,
        logprobs: segment.logprobs,
        prompt_length: first?.completionStart ?? 0,
        calls: segment.spans.map((s) => ({
          model_call_id: s.modelCallId,
          call_index: s.callIndex,
          start: s.start,
          completion_start: s.completionStart,
          end: s.end,
          policy_version: s.policyVersion,
          temperature: s.temperature,
          finish_reason: s.finishReason,
        })),
        prefix_parent_id: prefix.parentSampleId,
        prefix_shared_tokens: prefix.shared,
        ...groupColumns(unit, segmentSampleId(rollout.id, segment.index)),
      };
    });
  },
});
