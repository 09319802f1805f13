import { z } from 'zod';
import { FinishReason } from '../../core/index.ts';

/**
 * Why a call's prompt did not extend the sequence it continues, so a new segment began.
 * `context_reset` is by design (a summary, a sub-agent, a fresh context); the others are drift.
 */
export const DriftCause = z.enum(['dropped_reasoning', 'template_rerender', 'tokenizer_mismatch', 'context_reset', 'unknown']);
export type DriftCause = z.infer<typeof DriftCause>;

export const DriftRecord = z.object({
  /** `ModelCall.index` of the call whose prompt broke the extension. */
  callIndex: z.number().int().nonnegative(),
  modelCallId: z.string(),
  /** The conversation turn that call produces: 1 + the assistant messages in its request. */
  turn: z.number().int().positive(),
  /** Token offset into the continued sequence where the ids first differ. */
  position: z.number().int().nonnegative(),
  cause: DriftCause,
  /** Index into the call's `request.messages` of the first message that changed, when one did. */
  messageIndex: z.number().int().nonnegative().nullable(),
  detail: z.string(),
});
export type DriftRecord = z.infer<typeof DriftRecord>;

/** The tokens one call added to a segment: `[start, completionStart)` context, `[completionStart, end)` sampled. */
export const CallSpan = z.object({
  modelCallId: z.string(),
  callIndex: z.number().int().nonnegative(),
  start: z.number().int().nonnegative(),
  completionStart: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  policyVersion: z.string().nullable(),
  temperature: z.number().nullable(),
  finishReason: FinishReason,
});
export type CallSpan = z.infer<typeof CallSpan>;

/** How a segment began: the rollout's first call, a branch off a call another call already continued, or a break. */
export const SegmentStart = z.union([z.literal('first'), z.literal('branch'), DriftCause]);
export type SegmentStart = z.infer<typeof SegmentStart>;

/**
 * One token sequence a trainer can consume whole: calls merged while each prompt extended the
 * previous prompt + completion exactly. `lossMask` is 1 on sampled tokens only; `logprobs` holds
 * the sampler's logprob at mask-1 positions and 0.0 elsewhere (null when some call lacked them).
 */
export interface Segment {
  index: number;
  tokenIds: number[];
  lossMask: (0 | 1)[];
  logprobs: number[] | null;
  spans: CallSpan[];
  startedBy: SegmentStart;
}

export interface Trajectory {
  segments: Segment[];
  drift: DriftRecord[];
  /** Tokens if every call were trained as its own sample (prompt + completion each). */
  perCallTokens: number;
  /** Calls whose recorded `extendsParent` disagreed with what the ids show (the ids win). */
  hintMismatches: number;
}

export const SkipReason = z.enum(['no_training_calls', 'no_engine_tokens', 'invalid_tokens']);
export type SkipReason = z.infer<typeof SkipReason>;

export type AssembleResult = { ok: true; trajectory: Trajectory } | { ok: false; reason: SkipReason; detail: string };

/** Decodes token ids to text; only needed to tell a template re-render from a tokenizer mismatch. */
export type TokenDecoder = (ids: readonly number[]) => string;

/** Per-token policy version: the version of the call that sampled the token, null on context tokens. */
export function tokenPolicyVersions(segment: Segment): (string | null)[] {
  const out: (string | null)[] = new Array<string | null>(segment.tokenIds.length).fill(null);
  for (const span of segment.spans) out.fill(span.policyVersion, span.completionStart, span.end);
  return out;
}
