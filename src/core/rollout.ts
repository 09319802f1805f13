import { z } from 'zod';
import { RolloutId, RunId } from './ids.ts';
import { JsonObject, JsonValue } from './json.ts';
import { SamplingParams } from './model-call.ts';
import { SCHEMA_VERSION } from './version.ts';

/** `scored`: the model's work was judged. `infra_error`: infrastructure failed; never scored. */
export const RolloutStatus = z.enum(['scored', 'infra_error', 'cancelled']);
export type RolloutStatus = z.infer<typeof RolloutStatus>;

export const TerminationReason = z.enum([
  'answered', // the model replied without tool calls
  'submitted', // the model called a tool that ends the episode
  'max_turns',
  'deadline',
  'context_limit',
  'invalid_output', // the model's output could not be used (e.g. repeated malformed tool calls)
  'output_truncated', // the model hit its token limit mid-answer
  'infra_error',
  'cancelled',
]);
export type TerminationReason = z.infer<typeof TerminationReason>;

export const CheckResult = z.object({
  name: z.string(),
  /** `outcome`: something that must be true at the end; `invariant`: something that must not have changed. */
  kind: z.enum(['outcome', 'invariant']),
  passed: z.boolean(),
  detail: z.string().optional(),
});
export type CheckResult = z.infer<typeof CheckResult>;

export const VerifierOutcome = z.object({
  passed: z.boolean(),
  /** Fraction in [0, 1]; 1 when passed. Partial credit is informative, `passed` is what counts. */
  score: z.number().min(0).max(1),
  checks: z.array(CheckResult),
});
export type VerifierOutcome = z.infer<typeof VerifierOutcome>;

export const RewardTerm = z.object({
  name: z.string(),
  value: z.number(),
  weight: z.number(),
  source: z.enum(['verifier', 'rubric', 'judge', 'checklist', 'detector', 'process', 'time', 'expert']),
  detail: JsonValue.optional(),
});
export type RewardTerm = z.infer<typeof RewardTerm>;

/** A perturbation applied to a rollout, recorded with its parameters so it can be reproduced. */
export const PerturbationRecord = z.object({ name: z.string(), params: JsonObject, seed: z.number().int() });
export type PerturbationRecord = z.infer<typeof PerturbationRecord>;

export const RolloutStats = z.object({
  turns: z.number().int().nonnegative(),
  modelCalls: z.number().int().nonnegative(),
  toolCalls: z.number().int().nonnegative(),
  toolErrors: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type RolloutStats = z.infer<typeof RolloutStats>;

export const Rollout = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: RolloutId,
  runId: RunId,
  taskId: z.string(),
  env: z.string(),
  epoch: z.number().int().nonnegative(),
  /** 1 for the first try; retries after infra errors increment it. */
  attempt: z.number().int().positive(),
  seed: z.number().int(),
  model: z.string(),
  scaffold: z.string(),
  status: RolloutStatus,
  terminationReason: TerminationReason,
  /** null unless `status` is `scored`. */
  score: z.number().nullable(),
  passed: z.boolean().nullable(),
  rewardTerms: z.array(RewardTerm),
  verifier: VerifierOutcome.nullable(),
  error: z.object({ source: z.string(), message: z.string() }).nullable(),
  finalAnswer: z.string().nullable(),
  stats: RolloutStats,
  perturbations: z.array(PerturbationRecord).default([]),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number().nonnegative(),
});
export type Rollout = z.infer<typeof Rollout>;

export const RunConfig = z.object({
  envs: z.array(z.string()).min(1),
  /** Restrict to these task ids (all of the envs' tasks when absent). */
  taskIds: z.array(z.string()).optional(),
  /** Task files (YAML/JSON) to run instead of the environments' built-in tasks. */
  taskFiles: z.array(z.string()).optional(),
  model: z.string(),
  /** Options for the model spec that are not secrets (base URL overrides). */
  modelOptions: JsonObject.default({}),
  scaffold: z.string().default('interleaved'),
  epochs: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  seed: z.number().int(),
  /** Attempts per rollout for infra errors (1 = no retry). */
  maxAttempts: z.number().int().positive().default(3),
  maxTurns: z.number().int().positive().optional(),
  deadlineMs: z.number().int().positive().optional(),
  sampling: SamplingParams.default({}),
  perturbations: z.array(JsonObject).default([]),
  /** Model spec of the judge for LLM-judge checks (e.g. `openai:http://…/v1#judge-model`). */
  judge: z.string().optional(),
  /** External MCP servers whose tools are added to every episode (named `<server>__<tool>`). */
  mcpServers: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _'),
        command: z.string().min(1),
        args: z.array(z.string()).default([]),
        env: z.record(z.string(), z.string()).optional(),
      }),
    )
    .default([]),
  /** Sandbox backend for environments that run commands. */
  sandbox: z.enum(['auto', 'virtual', 'bwrap']).default('auto'),
});
export type RunConfig = z.infer<typeof RunConfig>;

export const Run = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: RunId,
  createdAt: z.string(),
  gauntletVersion: z.string(),
  config: RunConfig,
  status: z.enum(['running', 'finished', 'interrupted']),
  finishedAt: z.string().nullable(),
});
export type Run = z.infer<typeof Run>;

export const EventType = z.enum([
  'rollout_started',
  'model_call',
  'tool_call',
  'tool_result',
  'world_event',
  'context_compacted',
  'infra_retry',
  'rollout_finished',
]);
export type EventType = z.infer<typeof EventType>;

/** Appended as things happen, so a crash loses nothing already done. */
export const RolloutEvent = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: RunId,
  rolloutId: RolloutId,
  attempt: z.number().int().positive(),
  seq: z.number().int().nonnegative(),
  at: z.string(),
  type: EventType,
  data: JsonValue,
});
export type RolloutEvent = z.infer<typeof RolloutEvent>;

/** An expert's judgement of a rollout or one step of it; becomes reward data. */
export const Label = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: z.string(),
  rolloutId: RolloutId,
  /** The model call (step) the label is pinned to, when it is about one step. */
  modelCallId: z.string().optional(),
  kind: z.enum(['unsafe', 'reward_hack', 'correct', 'incorrect', 'preference', 'score', 'note']),
  value: JsonValue,
  reviewer: z.string(),
  createdAt: z.string(),
});
export type Label = z.infer<typeof Label>;
