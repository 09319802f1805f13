// Composing a rollout's reward: every configured term is computed and stored with its raw value,
// weight and source; the reward is their weighted sum, set to 0 when a gating detector fires.
// `passed` stays the verifier's verdict and `score` its 1/0 form, so pass rates and eval reports
// mean the same whatever reward a run trains on; `reward` is the composed total. Callers that never
// see the model (the OpenEnv server) compose with `composeToolReward`: the same code, the terms
// that need only the verifier and the tool calls.
import {
  DefectError,
  InfraError,
  type Severity,
  type DetectionFlag,
  type JsonValue,
  type ModelClient,
  type RewardTerm,
  type Rollout,
  type RolloutRecorder,
  type TerminationReason,
  type VerifierOutcome,
} from '../core/index.ts';
import { detectTrajectory, RULE_DETECTORS, renderTranscript, trajectoryOf, type Trajectory } from './detectors/index.ts';
import { DEFAULT_REWARD_CONFIG, needs, type RewardConfig, type RewardTermSpec } from './config.ts';
import { gradeWithRubric } from './judge.ts';
import { processCounts, type ProcessCounts } from './process.ts';
import type { AttemptTrace, ToolUse } from './trace.ts';

export interface ComposedReward {
  /** The verifier's verdict as a number (1 passed, 0 not): what eval reports average. */
  score: number;
  passed: boolean;
  /** Σ weight × value over the terms, or 0 when a gate fired. */
  reward: number;
  terms: RewardTerm[];
  /** Names of the detector terms whose gate fired. */
  gatedBy: string[];
}

export interface ComposeOptions {
  config?: RewardConfig;
  /** What the attempt recorded; needed by every term that is not the verifier's. */
  trace?: AttemptTrace;
  /** Grader of rubric terms that name no judge of their own (the run's `--judge`). */
  judge?: ModelClient;
  /** Graders of rubric terms that name their own judge, by the spec they name. */
  judges?: ReadonlyMap<string, ModelClient>;
  /** The task the rollout ran: detector terms read what its environment marks (commits holding the answer). */
  task?: { metadata?: Record<string, unknown> | undefined };
  /** Where judge calls are recorded (the attempt's recorder). */
  recorder?: RolloutRecorder;
  signal?: AbortSignal;
  now?: () => number;
}

/** Judge calls of reward rubrics are numbered from here (the environment's judge uses 100,000+). */
export const RUBRIC_CALL_INDEX = 200_000;

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

const sum = (terms: readonly RewardTerm[]) => terms.reduce((s, t) => s + t.weight * t.value, 0);

/** Terms that need only the verifier: synchronous, used by `scoreRollout` too. */
function verifierTerm(term: Extract<RewardTermSpec, { kind: 'outcome' | 'verifier_checks' | 'verifier' }>, verifier: VerifierOutcome): RewardTerm {
  const { weight } = term.spec;
  const passedChecks = verifier.checks.filter((c) => c.passed).length;
  switch (term.kind) {
    case 'outcome':
      return { name: term.name, value: term.spec.use === 'score' ? verifier.score : verifier.passed ? 1 : 0, weight, source: 'verifier', detail: { use: term.spec.use, passed: verifier.passed, score: verifier.score } };
    case 'verifier_checks':
      return { name: term.name, value: verifier.score, weight, source: 'verifier', detail: { passedChecks, checks: verifier.checks.length } };
    case 'verifier': {
      // Own keys only: `verifier.constructor` must not read Object's constructor as a reward.
      const value = verifier.rewards && Object.hasOwn(verifier.rewards, term.key) ? verifier.rewards[term.key] : undefined;
      if (value !== undefined) return { name: term.name, value, weight, source: 'verifier' };
      if (term.spec.missing !== undefined) return { name: term.name, value: term.spec.missing, weight, source: 'verifier', detail: { missing: true } };
      const produced = Object.keys(verifier.rewards ?? {});
      throw new DefectError('environment', `reward term ${term.name}: the verifier produced no "${term.key}" reward (it produced ${produced.length > 0 ? produced.join(', ') : 'none'}); set \`missing:\` on the term if that is expected`);
    }
  }
}

/**
 * Today's scoring, kept for callers that score with the built-in default and no trace (robustness
 * episodes): the default config, whose reward equals the score.
 */
export function scoreRollout(input: { verifier: VerifierOutcome; terminationReason?: TerminationReason }): ComposedReward {
  const terms = DEFAULT_REWARD_CONFIG.terms.map((t) => verifierTerm(t as Parameters<typeof verifierTerm>[0], input.verifier));
  return { score: input.verifier.passed ? 1 : 0, passed: input.verifier.passed, reward: totalOf(terms, []), terms, gatedBy: [] };
}

/** The terms whose values come from the verifier and the tool calls alone: no model messages, no judge. */
type ToolTermSpec = Exclude<RewardTermSpec, { kind: 'detector' | 'rubric' }>;

/** What those terms read. Process and time readings are asked for only by the terms that need them. */
interface ToolFacts {
  verifier: VerifierOutcome;
  turns: number;
  /** Counts over the attempt's tool calls; `term` names the asker, for the error when there are none. */
  counts(term: string): ProcessCounts;
  /** The agent's working time, in ms. */
  workingMs(term: string): number;
}

/** The one place these terms are computed: `composeReward` and `composeToolReward` both come here. */
function toolTerm(term: ToolTermSpec, facts: ToolFacts): RewardTerm {
  const { name } = term;
  const weight = term.spec.weight;
  switch (term.kind) {
    case 'outcome':
    case 'verifier_checks':
    case 'verifier':
      return verifierTerm(term, facts.verifier);
    case 'tool_errors': {
      const counts = facts.counts(name);
      return { name, value: counts.toolErrors, weight, source: 'process', detail: { toolCalls: counts.toolCalls } };
    }
    case 'repeated_calls': {
      const counts = facts.counts(name);
      return { name, value: counts.repeatedCalls, weight, source: 'process', detail: { toolCalls: counts.toolCalls, examples: counts.examples.repeated } };
    }
    case 'useless_calls': {
      const counts = facts.counts(name);
      return { name, value: counts.uselessCalls, weight, source: 'process', detail: { toolCalls: counts.toolCalls, examples: counts.examples.useless } };
    }
    case 'turns':
      return { name, value: facts.turns, weight, source: 'time' };
    case 'duration': {
      const ms = facts.workingMs(name);
      return { name, value: ms / 1000, weight, source: 'time', detail: { ms, unit: 'seconds' } };
    }
  }
}

/** From the agent's start to its last act; 0 when either is unknown (it never acted). */
const workingMs = (startedAt: number | null, lastAt: number | null) => (startedAt === null || lastAt === null ? 0 : Math.max(0, lastAt - startedAt));

/** The total: Σ weight × value, or 0 when a gate fired. */
const totalOf = (terms: readonly RewardTerm[], gatedBy: readonly string[]) => (gatedBy.length > 0 ? 0 : sum(terms));

// A reward that is not a finite number (a verifier's NaN, a sum that overflows) is a defect, never
// a score: JSON has no NaN or ±Infinity, so stored it would read back as null, and a trainer fed it
// would turn every advantage of its group into NaN. The rollout becomes an error naming it.

/** The verifier's numbers that are not finite, each with the reward terms that read it. */
function nonFiniteVerifier(verifier: VerifierOutcome, config: RewardConfig): string[] {
  const readBy = (names: string[]) => (names.length > 0 ? `, read by reward term ${names.join(', ')}` : '');
  const found: string[] = [];
  if (!Number.isFinite(verifier.score)) {
    const readers = config.terms.filter((t) => t.kind === 'verifier_checks' || (t.kind === 'outcome' && t.spec.use === 'score')).map((t) => t.name);
    found.push(`score is ${verifier.score}${readBy(readers)}`);
  }
  for (const [key, value] of Object.entries(verifier.rewards ?? {})) {
    if (!Number.isFinite(value)) found.push(`reward ${JSON.stringify(key)} is ${value}${readBy(config.terms.filter((t) => t.kind === 'verifier' && t.key === key).map((t) => t.name))}`);
  }
  return found;
}

function refuseNonFiniteVerifier(verifier: VerifierOutcome, config: RewardConfig, where: string): void {
  const found = nonFiniteVerifier(verifier, config);
  if (found.length > 0) throw new DefectError('environment', `${where}the verifier's ${found.join('; ')} (expected finite numbers; the reward is an error, never a score)`);
}

/** Refuses a term or total that is not a finite number; `where` names the rollout. */
function refuseNonFinite(terms: readonly RewardTerm[], total: number, where: string): void {
  for (const term of terms) {
    if (!Number.isFinite(term.value)) throw new DefectError(term.source === 'verifier' ? 'environment' : 'gauntlet', `${where}reward term ${term.name}: its value is ${term.value} (expected a finite number; the reward is an error, never a score)`);
  }
  if (Number.isFinite(total)) return;
  const product = (t: RewardTerm) => t.weight * t.value;
  const overflowing = terms.filter((t) => !Number.isFinite(product(t)));
  const named = (overflowing.length > 0 ? overflowing : terms).map((t) => `${t.name} (${t.weight} × ${t.value})`).join(', ');
  const source = overflowing.length > 0 && overflowing.every((t) => t.source === 'verifier') ? 'environment' : 'gauntlet';
  throw new DefectError(source, `${where}the reward total (Σ weight × value) is ${total}: ${named} (expected a finite number; the reward is an error, never a score)`);
}

/** The verifier outcome without the numbers JSON cannot hold (none at all when its score is one), for a rollout that is not scored. */
function storableVerifier(verifier: VerifierOutcome | null): VerifierOutcome | null {
  if (!verifier || !Number.isFinite(verifier.score)) return null;
  const rewards = verifier.rewards;
  if (!rewards || Object.values(rewards).every(Number.isFinite)) return verifier;
  return { ...verifier, rewards: Object.fromEntries(Object.entries(rewards).filter(([, value]) => Number.isFinite(value))) };
}

/**
 * The terms of `config` that cannot be computed from the verifier's outcome and the tool calls,
 * with why: what a caller that never sees the model (the OpenEnv server) must refuse.
 */
export function termsNeedingTheModel(config: RewardConfig): { name: string; why: string }[] {
  return config.terms.flatMap((t) => {
    if (t.kind === 'detector') return [{ name: t.name, why: "a rule detector reads the model's own messages and reasoning" }];
    if (t.kind === 'rubric') return [{ name: t.name, why: "a judge grades the model's whole transcript against the rubric" }];
    return [];
  });
}

/** An episode as a caller that never sees the model knows it: the verifier's outcome and the tool calls it ran. */
export interface ToolEpisode {
  verifier: VerifierOutcome;
  /** Tool calls in the order they were made, with their results. */
  tools: readonly ToolUse[];
  /** The agent's turns (the `turns` term). */
  turns: number;
  /** Clock readings (ms): when the agent started and when it last acted; null when it never did. */
  startedAt: number | null;
  lastAt: number | null;
}

/**
 * The reward of an episode scored without its model (the OpenEnv server): the same terms, values
 * and total that `composeReward` gives a rollout with this verifier outcome, tool calls, turns and
 * working time, computed by the same code. Throws DefectError for a term that needs the model
 * (callers refuse those first, see `termsNeedingTheModel`) or a promised verifier reward that is missing.
 */
export function composeToolReward(episode: ToolEpisode, config: RewardConfig = DEFAULT_REWARD_CONFIG): ComposedReward {
  refuseNonFiniteVerifier(episode.verifier, config, '');
  let counts: ProcessCounts | undefined;
  const facts: ToolFacts = {
    verifier: episode.verifier,
    turns: episode.turns,
    counts: () => (counts ??= processCounts(episode.tools)),
    workingMs: () => workingMs(episode.startedAt, episode.lastAt),
  };
  const terms = config.terms.map((term) => {
    if (term.kind === 'detector' || term.kind === 'rubric') throw new DefectError('gauntlet', `reward term ${term.name} needs the model's own messages, which an episode scored from its tool calls does not have`);
    return toolTerm(term, facts);
  });
  const passed = episode.verifier.passed;
  const reward = totalOf(terms, []);
  refuseNonFinite(terms, reward, '');
  return { score: passed ? 1 : 0, passed, reward, terms, gatedBy: [] };
}

function need<T>(value: T | undefined, term: string, what: string): T {
  if (value === undefined) throw new DefectError('gauntlet', `reward term ${term} needs ${what}, which the caller did not provide`);
  return value;
}

function flagDetail(flags: readonly DetectionFlag[]): JsonValue {
  return flags.slice(0, 5).map((f) => ({ severity: f.severity, callIndex: f.evidence.callIndex, excerpt: f.evidence.excerpt, ...(f.reason ? { reason: f.reason } : {}) }));
}

/**
 * The reward of a scored rollout under `config` (the default when absent). Throws InfraError when
 * a judge could not grade, DefectError when a term cannot be computed (a verifier reward that was
 * promised and not produced, a missing trace).
 */
export async function composeReward(rollout: Rollout, options: ComposeOptions = {}): Promise<ComposedReward> {
  const config = options.config ?? DEFAULT_REWARD_CONFIG;
  const verifier = need(rollout.verifier ?? undefined, 'outcome', 'the verifier outcome');
  const where = `rollout ${rollout.id}: `;
  refuseNonFiniteVerifier(verifier, config, where);
  const required = needs(config);
  let trajectory: Trajectory | undefined;
  if (required.trajectory) {
    const trace = need(options.trace, config.terms.find((t) => t.kind === 'detector' || t.kind === 'rubric')!.name, 'the attempt trace with model calls');
    trajectory = trajectoryOf(rollout, trace.calls, trace.events);
  }
  let counts: ProcessCounts | undefined;
  const facts: ToolFacts = {
    verifier,
    turns: rollout.stats.turns,
    counts: (name) => (counts ??= processCounts(need(options.trace, name, 'the attempt trace').tools)),
    workingMs: (name) => {
      const trace = need(options.trace, name, 'the attempt trace');
      return workingMs(trace.startedAt, trace.lastAt);
    },
  };
  let flags: DetectionFlag[] | undefined;
  const flagsFor = async () => {
    if (!flags) {
      const categories = new Set(config.terms.flatMap((t) => (t.kind === 'detector' ? [t.category] : [])));
      const detectors = RULE_DETECTORS.filter((d) => d.categories.some((c) => categories.has(c)));
      flags = (await detectTrajectory(trajectory!, { detectors, ...(options.task ? { task: options.task } : {}), ...(options.signal ? { signal: options.signal } : {}) })).flags;
    }
    return flags;
  };
  const terms: RewardTerm[] = [];
  const gatedBy: string[] = [];
  let rubrics = 0;
  for (const term of config.terms) {
    const { name } = term;
    const weight = term.spec.weight;
    switch (term.kind) {
      case 'detector': {
        const found = (await flagsFor()).filter((f) => f.category === term.category && RANK[f.severity] >= RANK[term.spec.minSeverity]);
        const fired = term.spec.gate && found.length > 0;
        if (fired) gatedBy.push(name);
        terms.push({ name, value: found.length, weight, source: 'detector', detail: { minSeverity: term.spec.minSeverity, gate: term.spec.gate, fired, flags: flagDetail(found) } });
        break;
      }
      case 'rubric': {
        const own = term.spec.judge;
        const judge = own === undefined ? need(options.judge, name, 'a judge model (--judge SPEC)') : need(options.judges?.get(own), name, `a client for its judge ${own}`);
        const trace = options.trace!;
        const grade = await gradeWithRubric(renderTranscript(trajectory!, term.spec.maxChars), {
          rubric: term.spec.rubric,
          model: judge,
          samples: term.spec.samples,
          temperature: term.spec.temperature,
          maxRetries: term.spec.maxRetries,
          ...(options.recorder ? { record: { recorder: options.recorder, identity: trace.identity, baseIndex: RUBRIC_CALL_INDEX + 1_000 * rubrics++ } } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.now ? { now: options.now } : {}),
        });
        // Which judge graded is part of the record: the term's own, or the run's.
        const detail = { ...grade, judgeFrom: own === undefined ? 'run' : 'term' };
        terms.push({ name, value: grade.score, weight, source: 'rubric', detail: JSON.parse(JSON.stringify(detail)) as JsonValue });
        break;
      }
      default:
        terms.push(toolTerm(term, facts));
    }
  }
  const reward = totalOf(terms, gatedBy);
  refuseNonFinite(terms, reward, where);
  return { score: verifier.passed ? 1 : 0, passed: verifier.passed, reward, terms, gatedBy };
}

/**
 * A scored rollout with its reward composed: terms, total and score set. A judge that could not
 * grade makes it `infra_error` (source `judge`); a term that cannot be computed, or a term, total
 * or verifier number that is not finite, makes it `error`. Either way it is never given a number
 * it did not earn.
 */
export async function rewardRollout(rollout: Rollout, options: ComposeOptions = {}): Promise<Rollout> {
  try {
    const composed = await composeReward(rollout, options);
    return { ...rollout, score: composed.score, passed: composed.passed, reward: composed.reward, rewardTerms: composed.terms };
  } catch (error) {
    const unscored = { score: null, passed: null, rewardTerms: [], reward: null, verifier: storableVerifier(rollout.verifier) };
    if (error instanceof InfraError) return { ...rollout, ...unscored, status: 'infra_error', terminationReason: 'infra_error', error: { source: error.source, kind: error.kind, message: error.message } };
    if (error instanceof DefectError) return { ...rollout, ...unscored, status: 'error', terminationReason: 'error', error: { source: error.source, kind: 'defect', message: error.message } };
    throw error;
  }
}
