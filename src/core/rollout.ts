import { z } from 'zod';
import { ErrorSource, FailureKind, InputError } from './errors.ts';
import { ModelCallId, RolloutId, RunId, TaskId } from './ids.ts';
import { JsonObject, JsonValue } from './json.ts';
import { SamplingParams } from './model-call.ts';
import { MAX_TIMER_MS } from './timers.ts';
import { SCHEMA_VERSION } from './version.ts';

/**
 * `scored`: the model's work was judged. `infra_error`: infrastructure failed; never scored.
 * `error`: a defect in Gauntlet's or the environment's code; never scored, never retried, listed.
 */
export const RolloutStatus = z.enum(['scored', 'infra_error', 'error', 'cancelled']);
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
  'error', // a defect in Gauntlet's or the environment's code ended it
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
  /** Named rewards the verifier produced (Harbor's reward.json keys), each to become a reward term. */
  rewards: z.record(z.string(), z.number()).optional(),
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

/**
 * What every attempt of the rollout spent, those ended by an infrastructure failure included:
 * their calls and tokens were made and paid for though only the last attempt's `stats` describe
 * the record. The agent's model calls (as in `stats`: judges' and simulated users' are not
 * counted) and tool calls, from what each attempt recorded (a call after the watchdog abandoned it
 * is not). Attempts of an earlier process, before a resume (one killed mid-attempt, or whose
 * infra_error record this one replaced), are counted from what the store holds of them.
 */
export const AttemptsSpend = RolloutStats.pick({ modelCalls: true, toolCalls: true, promptTokens: true, completionTokens: true }).extend({
  attempts: z.number().int().positive(),
});
export type AttemptsSpend = z.infer<typeof AttemptsSpend>;

export const RolloutError = z.object({ source: ErrorSource, kind: FailureKind.optional(), message: z.string() });
export type RolloutError = z.infer<typeof RolloutError>;

export const Rollout = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: RolloutId,
  runId: RunId,
  taskId: TaskId,
  env: z.string(),
  epoch: z.number().int().nonnegative(),
  /** Rollouts of one task in one world (same seed) form a group, for group-relative advantages. */
  groupId: z.string().optional(),
  /** Content hash of the task as it was run (the task itself is stored with the run). */
  taskHash: z.string().optional(),
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
  /**
   * The composed reward: Σ weight × value over `rewardTerms`, 0 when a detector gate fired (see
   * docs/design/rewards.md). null unless `scored`; absent on records written before rewards were composed.
   */
  reward: z.number().nullable().optional(),
  verifier: VerifierOutcome.nullable(),
  error: RolloutError.nullable(),
  finalAnswer: z.string().nullable(),
  stats: RolloutStats,
  /** Absent on records written before it was kept. */
  spent: AttemptsSpend.optional(),
  perturbations: z.array(PerturbationRecord).default([]),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number().nonnegative(),
});
export type Rollout = z.infer<typeof Rollout>;

/** The most epochs (rollouts per task) a run may ask for. */
const MAX_EPOCHS = 10_000;

const positiveInt = (max: number, what: string) =>
  z
    .number({ error: `a finite ${what}` })
    .int(`a whole ${what}`)
    .min(1, `a ${what} of at least 1`)
    .max(max, `a ${what} of at most ${max.toLocaleString('en-US')}`);

/** Context compaction: when the conversation outgrows `budgetTokens`, older turns are summarised. */
export const ContextPolicySpec = z.object({
  budgetTokens: positiveInt(100_000_000, 'token budget'),
  /** Most recent assistant turns (with their tool results) kept verbatim. */
  keepRecentTurns: positiveInt(10_000, 'number of turns'),
});
export type ContextPolicySpec = z.infer<typeof ContextPolicySpec>;

export const McpServerConfig = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).optional(),
});
export type McpServerConfig = z.infer<typeof McpServerConfig>;

export const SCAFFOLD_NAMES = ['interleaved', 'drop-thinking', 'text-tools'] as const;
export const ScaffoldName = z.enum(SCAFFOLD_NAMES);
export type ScaffoldName = z.infer<typeof ScaffoldName>;

/**
 * Every setting that changes what a run does, resolved: a stored run is rebuilt, resumed and
 * audited from this alone (with the stored tasks). Nothing is read from flags or defaults later.
 */
export const RunConfig = z.object({
  envs: z.array(z.string().min(1)).min(1),
  /** Restrict to these task ids (all of the envs' tasks when absent). */
  taskIds: z.array(z.string()).optional(),
  /** Task files (YAML/JSON) the tasks were read from; the tasks themselves are stored with the run. */
  taskFiles: z.array(z.string()).optional(),
  model: z.string().min(1),
  /** Options for the model spec that are not secrets (base URL overrides, text-tools settings). */
  modelOptions: JsonObject.default({}),
  scaffold: ScaffoldName.default('interleaved'),
  epochs: positiveInt(MAX_EPOCHS, 'number of epochs'),
  /**
   * Epochs per world: epochs e and e' of a task share a seed (and form one group) when
   * ⌊e / groupSize⌋ is equal. 1 (the default) gives every epoch its own world.
   */
  groupSize: positiveInt(10_000, 'group size').default(1),
  concurrency: positiveInt(10_000, 'concurrency'),
  seed: z.number().int('a whole number').min(0, 'a seed ≥ 0').max(2 ** 32 - 1, 'a seed below 2^32'),
  /** Attempts per rollout for infra errors (1 = no retry). */
  maxAttempts: positiveInt(100, 'number of attempts').default(3),
  /**
   * Rollouts in a row that may end as infra errors before the run stops starting more (an endpoint
   * or sandbox service that is down would otherwise turn every remaining rollout into one); 0
   * never stops.
   */
  stopAfterInfraErrors: z.number().int('a whole number').min(0, 'a count ≥ 0 (0: never stop)').max(1_000_000, 'at most 1,000,000').default(100),
  maxTurns: positiveInt(100_000, 'number of turns').optional(),
  deadlineMs: positiveInt(MAX_TIMER_MS, 'deadline in ms').optional(),
  /**
   * Per model request (each retry its own): past it with nothing received, the endpoint is
   * failing, not the model. Absent: half the rollout's deadline, at most two minutes.
   */
  requestTimeoutMs: positiveInt(MAX_TIMER_MS, 'request timeout in ms').optional(),
  /** Largest model output stored per call (content, reasoning and tool arguments); larger is `invalid_output`. */
  maxOutputBytes: positiveInt(1_000_000_000, 'size in bytes').default(4_000_000),
  /** Context compaction; null keeps every turn (and ends at the context limit). */
  context: ContextPolicySpec.nullable().default(null),
  /** The policy (checkpoint) version served by the model, recorded on every call. */
  policyVersion: z.string().min(1).optional(),
  sampling: SamplingParams.default({}),
  /** Perturbations applied to every rollout (`{ id, params }`, validated and completed by the runner's resolve). */
  perturbations: z.array(JsonObject).default([]),
  /** What perturbations draw their seeds from (with the task id); absent: the run's seed. */
  perturbationSeed: z.number().int('a whole number').min(0, 'a seed ≥ 0').max(2 ** 32 - 1, 'a seed below 2^32').optional(),
  /** Model spec of the judge for LLM-judge checks (e.g. `openai:http://…/v1#judge-model`). */
  judge: z.string().optional(),
  /** Model spec of the simulated user for tasks that have one (their scripted user when absent). */
  user: z.string().optional(),
  /** How rewards are composed (terms and weights), validated and completed by the runner's resolve; absent: the default (docs/design/rewards.md). */
  reward: JsonObject.optional(),
  /**
   * A reward per environment (by name), for a run without `reward` whose environments would each
   * be scored differently: given so, or set by resolve where the environments' defaults differ.
   * Each rollout is composed with its own environment's.
   */
  rewards: z.record(z.string(), JsonObject).optional(),
  /** External MCP servers whose tools are added to every episode (named `<server>__<tool>`). */
  mcpServers: z.array(McpServerConfig).default([]),
  /** Sandbox backend for environments that run commands. */
  sandbox: z.enum(['auto', 'virtual', 'bwrap', 'remote', 'k8s']).default('auto'),
  /** A running `gauntlet gateway` each rollout's model calls go through (on its own route), for the engine's token ids. */
  gateway: z.url({ protocol: /^https?$/, error: 'an http(s) URL of a running gauntlet gateway' }).optional(),
  /**
   * An external agent program (npm package at a pinned version) plays each episode instead of the
   * scaffold, in its own sandbox, its model calls going through a gateway in front of `model`.
   */
  agent: z
    .object({
      name: z.string().regex(/^[a-z0-9-]+$/, 'an agent name such as pi, codex, qwen-code, opencode'),
      version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'an exact version such as 0.73.1'),
    })
    .strict()
    .optional(),
});
export type RunConfig = z.infer<typeof RunConfig>;

/** Group sizes listed in full before the list is cut short. */
const LISTED_DIVISORS = 12;

/**
 * Why a run's epochs cannot be split into groups of `groupSize`, or null when they can. A group is
 * ⌊epoch / groupSize⌋, so a size that does not divide the epochs leaves each task a short last
 * group (one of 1 has no advantage at all), and group-relative advantages would compare unequal
 * groups without a word. Applied where runs are made (`resolveRun`), never when one is read: a run
 * stored before the rule keeps loading, resuming and exporting as it was run.
 */
export function unevenGroups(config: Pick<RunConfig, 'epochs' | 'groupSize'>): InputError | null {
  const { epochs, groupSize } = config;
  if (epochs % groupSize === 0) return null;
  const full = Math.floor(epochs / groupSize);
  const rest = epochs % groupSize;
  const last = `${rest}${rest === 1 ? ', which has no advantage' : ''}`;
  const groups = full === 0 ? `one group of ${last}` : `${full} group${full === 1 ? '' : 's'} of ${groupSize} and one of ${last}`;
  const divisors = Array.from({ length: epochs }, (_, i) => i + 1).filter((d) => epochs % d === 0);
  const listed = divisors.length > LISTED_DIVISORS ? `${divisors.slice(0, LISTED_DIVISORS).join(', ')}, …, ${epochs}` : `${divisors.slice(0, -1).join(', ')}${divisors.length > 1 ? ' or ' : ''}${epochs}`;
  const multiple = Math.ceil(epochs / groupSize) * groupSize;
  const orEpochs = multiple <= MAX_EPOCHS ? `, or a number of epochs that is a multiple of ${groupSize}, such as ${multiple}` : '';
  return new InputError(
    'groupSize',
    `got ${groupSize}, which does not divide the ${epochs} epoch${epochs === 1 ? '' : 's'} (--epochs): each task's rollouts would form ${groups}`,
    `a group size that divides the epochs (${listed})${orEpochs}`,
  );
}

/**
 * What a stored record says its rollout spent: its `spent`, or, for a record without one (an older
 * Gauntlet's), its last attempt's stats as one attempt.
 */
export function recordedSpend(rollout: Pick<Rollout, 'spent' | 'stats'>): AttemptsSpend {
  if (rollout.spent) return rollout.spent;
  const { modelCalls, toolCalls, promptTokens, completionTokens } = rollout.stats;
  return { attempts: 1, modelCalls, toolCalls, promptTokens, completionTokens };
}

export const Run = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: RunId,
  createdAt: z.string(),
  gauntletVersion: z.string(),
  config: RunConfig,
  status: z.enum(['running', 'finished', 'interrupted']),
  finishedAt: z.string().nullable(),
  /**
   * Environments the run loaded from files (`--env-module`), by name: the file each came from, so
   * a resume or worker without it can name the file to load. Absent when every one is built in.
   */
  environmentFiles: z.record(z.string(), z.string()).optional(),
});
export type Run = z.infer<typeof Run>;

const eventBase = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: RunId,
  rolloutId: RolloutId,
  attempt: z.number().int().positive(),
  seq: z.number().int().nonnegative(),
  at: z.string(),
};

/** What each event type carries. Events are appended as things happen, so a crash loses nothing already done. */
export const EventData = {
  rollout_started: z.object({ taskId: z.string(), attempt: z.number().int().positive(), scaffold: z.string(), model: z.string() }),
  tool_call: z.object({ id: z.string(), name: z.string(), arguments: z.string() }),
  tool_result: z.object({ id: z.string(), ok: z.boolean(), content: z.string() }),
  world_event: z.object({ event: z.string(), params: JsonValue }),
  context_compacted: z.object({
    summaryCallId: ModelCallId,
    removedMessages: z.number().int().nonnegative(),
    tokensBefore: z.number().int().nonnegative(),
    tokensAfter: z.number().int().nonnegative(),
  }),
  infra_retry: z.object({ attempt: z.number().int().positive(), source: ErrorSource, kind: FailureKind.optional(), message: z.string() }),
  rollout_finished: z.object({ terminationReason: TerminationReason, passed: z.boolean(), checks: z.array(CheckResult) }),
} as const;

export type EventType = keyof typeof EventData;
export const EventType = z.enum(Object.keys(EventData) as [EventType, ...EventType[]]);
export type EventDataOf<T extends EventType> = z.infer<(typeof EventData)[T]>;

export const RolloutEvent = z.discriminatedUnion('type', [
  z.object({ ...eventBase, type: z.literal('rollout_started'), data: EventData.rollout_started }),
  z.object({ ...eventBase, type: z.literal('tool_call'), data: EventData.tool_call }),
  z.object({ ...eventBase, type: z.literal('tool_result'), data: EventData.tool_result }),
  z.object({ ...eventBase, type: z.literal('world_event'), data: EventData.world_event }),
  z.object({ ...eventBase, type: z.literal('context_compacted'), data: EventData.context_compacted }),
  z.object({ ...eventBase, type: z.literal('infra_retry'), data: EventData.infra_retry }),
  z.object({ ...eventBase, type: z.literal('rollout_finished'), data: EventData.rollout_finished }),
]);
export type RolloutEvent = z.infer<typeof RolloutEvent>;

/** An expert's judgement of a rollout or one step of it; becomes reward data. */
export const Label = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: z.string(),
  rolloutId: RolloutId,
  /** The model call (step) the label is pinned to, when it is about one step. */
  modelCallId: ModelCallId.optional(),
  kind: z.enum(['unsafe', 'reward_hack', 'correct', 'incorrect', 'preference', 'score', 'note']),
  value: JsonValue,
  reviewer: z.string(),
  createdAt: z.string(),
});
export type Label = z.infer<typeof Label>;
