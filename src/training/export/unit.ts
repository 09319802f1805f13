import { z } from 'zod';
import type { FinishReason, ModelCall, Rollout, Run } from '../../core/index.ts';
import type { AdvantageMethod } from '../advantages/index.ts';
import type { CallSpan, Segment, Trajectory } from '../trajectory/index.ts';
import type { ParquetColumns } from './parquet.ts';

export const TargetName = z.enum(['verl', 'skyrl', 'trl', 'prime-rl', 'generic', 'sft']);
export type TargetName = z.infer<typeof TargetName>;

/** Everything a target needs to turn one rollout into rows. */
export interface ExportUnit {
  run: Run;
  rollout: Rollout;
  /** Training calls of the rollout's final attempt (no judges, no failed calls), in order. */
  calls: ModelCall[];
  group: { id: string; size: number; repetition: number };
  reward: number;
  advantage: number;
  method: AdvantageMethod;
  /** The merged token segments; null for targets that need no tokens (SFT). */
  trajectory: Trajectory | null;
  /** Per segment: the sample of the same group it shares its longest prefix with, and how many tokens. */
  prefix: { parentSampleId: string | null; shared: number }[];
  /** The temperature to assume for calls that recorded none (`--temperature`), or null. */
  assumedTemperature: number | null;
  /** The policy version (training step) to assume for calls that recorded none (`--policy-version`); absent or null: none. */
  assumedPolicyVersion?: number | null;
}

export interface TargetNeeds {
  /** Engine token ids merged into segments. */
  tokens: boolean;
  /** The sampler's logprobs on every sampled token. */
  logprobs: boolean;
  /** The sampling temperature of every call. */
  temperature: boolean;
  /** A training-step policy version on every call: the trainer subtracts it from its own step, so a row without one stops it. */
  policyVersion?: boolean;
  /**
   * Each call's own token ids in `ExportUnit.calls` (rows per call). Otherwise the export drops
   * them once merged: a long rollout's per-call prompts hold quadratically many ids, and a whole
   * group's units are in memory at once.
   */
  callTokens?: boolean;
}

/** One trainer's row type: its fields and shapes, the check applied to every row, and its Parquet layout. */
export interface ExportTarget<Row extends object = object> {
  name: TargetName;
  variant: string;
  description: string;
  needs: TargetNeeds;
  schema: z.ZodType<Row>;
  /** Same keys, same order as a row. */
  columns: ParquetColumns;
  rows(unit: ExportUnit): Row[];
}

export function segmentSampleId(rolloutId: string, segmentIndex: number): string {
  return `${rolloutId}/s${segmentIndex}`;
}

export function callSampleId(rolloutId: string, callIndex: number): string {
  return `${rolloutId}/c${callIndex}`;
}

export function segmentsOf(unit: ExportUnit): Segment[] {
  if (!unit.trajectory) throw new Error(`rollout ${unit.rollout.id} reached a token export without its token trajectory`);
  return unit.trajectory.segments;
}

/** A segment split where verl/SkyRL/TRL split it: the first call's prompt, then everything after. */
export function splitAtPrompt(segment: Segment) {
  const at = (segment.spans[0] as CallSpan).completionStart;
  return {
    promptIds: segment.tokenIds.slice(0, at),
    responseIds: segment.tokenIds.slice(at),
    responseMask: segment.lossMask.slice(at),
    responseLogprobs: segment.logprobs ? segment.logprobs.slice(at) : null,
  };
}

/** Engine-level stop reason (SkyRL: anything but "stop" counts as truncated). */
export function stopReason(finish: FinishReason): string {
  if (finish === 'stop' || finish === 'tool_calls') return 'stop';
  return finish;
}

/** A policy version as a training step: digits JS holds exactly, else null (not a step number). */
export function stepNumber(version: string | null): number | null {
  if (version === null || !/^\d+$/.test(version)) return null;
  // "99999999999999999999" is digits but no exact number: the row's int64 column would refuse it and stop the whole export.
  const step = Number(version);
  return Number.isSafeInteger(step) ? step : null;
}

/** Policy versions as integers (training steps), when every span has one that is an integer. */
export function integerVersions(spans: readonly CallSpan[]): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const span of spans) {
    const step = stepNumber(span.policyVersion);
    if (step === null) return null;
    min = Math.min(min, step);
    max = Math.max(max, step);
  }
  return spans.length === 0 ? null : { min, max };
}

/** The oldest training step that sampled a segment's tokens; a call that recorded no version takes `--policy-version`. */
export function oldestStep(spans: readonly CallSpan[], unit: ExportUnit): number {
  let oldest = Infinity;
  for (const span of spans) {
    const step = span.policyVersion === null ? (unit.assumedPolicyVersion ?? null) : stepNumber(span.policyVersion);
    // The export leaves such rollouts out (no_policy_version) before rows are built.
    if (step === null) throw new Error(`rollout ${unit.rollout.id}: call ${span.callIndex} reached a row that needs a training-step policy version without one`);
    oldest = Math.min(oldest, step);
  }
  return oldest;
}

export function temperatureOf(span: CallSpan, unit: ExportUnit): number | null {
  return span.temperature ?? unit.assumedTemperature;
}

export function groupColumns(unit: ExportUnit, sampleId: string) {
  return { group_id: unit.group.id, rollout_id: unit.rollout.id, sample_id: sampleId, reward: unit.reward, advantage: unit.advantage };
}

export function defineTarget<Row extends object>(target: ExportTarget<Row>): ExportTarget<Row> {
  return target;
}
