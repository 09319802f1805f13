// One Gauntlet environment instance played through OpenEnv actions: reset picks a task, call_tool
// runs a tool, submit answers; the episode ends on an answer, a submitting tool, max_turns or the
// deadline, and however it ends the final state is judged as `gauntlet run` judges a rollout: the
// ending observation carries the reward composed from the verifier's outcome and the tool calls the
// episode ran (see reward.ts for which reward), with every term and named check.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  createRng,
  DefectError,
  errorMessage,
  InfraError,
  timerDelay,
  type Environment,
  type JsonObject,
  type Message,
  type Task,
  type ToolOutcome,
  type VerifierOutcome,
} from '../../core/index.ts';
import { exposedToolNames } from '../../envs/interop/index.ts';
import { composeToolReward, type ComposedReward, type ToolUse } from '../../reward/index.ts';
import { ResetData, type Action, type EpisodeEnd, type EpisodeState, type Observation, type StepResult, type TerminationReason, type ToolErrorInfo, type ToolInfo } from './protocol.ts';
import { BUILT_IN_REWARD, type EpisodeReward } from './reward.ts';

/** The environment's tasks, looked up by id; built once per server. */
export interface TaskCatalog {
  tasks: readonly Task[];
  byId: ReadonlyMap<string, Task>;
  /** Reset data that must also name one of these tasks, when it names one. */
  resetData: z.ZodType<ResetData>;
}

export function taskCatalog(tasks: readonly Task[]): TaskCatalog {
  const byId = new Map<string, Task>(tasks.map((t) => [t.id, t]));
  const examples = tasks.slice(0, 3).map((t) => t.id).join(', ');
  const resetData = ResetData.superRefine((data, ctx) => {
    if (data.task_id !== undefined && !byId.has(data.task_id)) {
      ctx.addIssue({ code: 'custom', path: ['task_id'], message: `unknown task "${data.task_id}" (this environment has ${tasks.length} tasks, e.g. ${examples})` });
    }
  });
  return { tasks, byId, resetData };
}

/** The state of a session that has not been reset (and of stateless `GET /state`). */
export function initialState(): EpisodeState {
  return { episode_id: null, step_count: 0, task_id: null, turns: 0, max_turns: null, done: false, termination_reason: null };
}

/** A step the episode cannot take in its current state (no reset yet, already done): the client's mistake. */
export class EpisodeStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EpisodeStateError';
  }
}

/**
 * The environment or Gauntlet failed during a step: never a reward. `failure` says whether it was
 * infrastructure (a sandbox that would not start) or a defect in code (a tool that crashed).
 */
export class EpisodeFailure extends Error {
  readonly failure: 'infra' | 'defect';
  readonly source: string;
  readonly retryable: boolean;
  constructor(error: unknown, during: string) {
    const infra = error instanceof InfraError;
    super(`${during}: ${infra ? 'infrastructure failure' : 'defect'}: ${errorMessage(error)}`, { cause: error });
    this.name = 'EpisodeFailure';
    this.failure = infra ? 'infra' : 'defect';
    const source = (error as { source?: unknown } | null)?.source;
    this.source = typeof source === 'string' ? source : 'environment';
    this.retryable = infra ? error.retryable : false;
  }
}

export interface EpisodeOptions {
  environment: Environment;
  catalog: TaskCatalog;
  /** The reward every episode of this instance earns; default the built-in one. */
  reward?: EpisodeReward;
  /** Wall clock for the task deadline and the `duration` term (ms). */
  now?: () => number;
  /** Time a task's episode may need beyond its deadline (the environment definition's `overheadMs`); added to the verification bound. */
  overheadMs?: (task: Task) => number;
}

/**
 * How long an episode's own work may run past the task's deadline before it is abandoned as an
 * infrastructure failure: `gauntlet run`'s default `graceMs`, which its watchdog allows (plus the
 * environment's overhead) before giving up on a rollout whose tool or verifier hangs.
 */
export const VERIFY_GRACE_MS = 10_000;

export interface StepOptions {
  signal: AbortSignal;
  /** A bound on this one call (HTTP `timeout_s`), besides the task's deadline. */
  timeoutMs?: number;
}

interface Current {
  id: string;
  task: Task;
  deadlineAt: number;
  /** Exposed tool name → the environment's own (they differ only for OpenEnv's reserved names). */
  names: Map<string, string>;
  tools: ToolInfo[];
  steps: number;
  turns: number;
  answered: number;
  /** What the verifier sees as the agent's transcript, rebuilt from the actions. */
  messages: Message[];
  /** The tool calls made, with their results, in order: what the reward's process terms count. */
  uses: ToolUse[];
  /** Clock readings (ms): when the agent could start (reset done) and when it last acted. */
  startedAt: number;
  lastAt: number | null;
  /** When the current step arrived: time before it was the client's, not the environment's. */
  stepAt: number;
  ended: EpisodeEnd | null;
  /** Set when a step failed for infrastructure or a defect: the episode cannot be scored. */
  broken: string | null;
}

const TOOL_ERROR_TYPES: Record<Extract<ToolOutcome, { ok: false }>['kind'], ToolErrorInfo['error_type']> = {
  unknown_tool: 'tool_not_found',
  invalid_arguments: 'invalid_args',
  tool_error: 'execution_error',
  // A flaky tool is part of the world the agent is judged on, not a broken transport: a trainer
  // that discarded transport errors as infrastructure would throw away exactly these episodes.
  transient: 'execution_error',
};

export class OpenEnvEpisode {
  private readonly environment: Environment;
  private readonly catalog: TaskCatalog;
  private readonly reward: EpisodeReward;
  private readonly now: () => number;
  private readonly overheadMs: (task: Task) => number;
  private current: Current | undefined;
  /**
   * Aborted when the episode is over for good (abandoned verification, next reset, close) or its
   * session ends. It is the signal the environment gets at reset, which its checks (a verifier's
   * sandbox commands) and follow-up turns run under: `verify` takes no signal of its own.
   */
  private lifetime: { controller: AbortController; release: () => void } | undefined;

  constructor(options: EpisodeOptions) {
    this.environment = options.environment;
    this.catalog = options.catalog;
    this.reward = options.reward ?? BUILT_IN_REWARD;
    this.now = options.now ?? Date.now;
    this.overheadMs = options.overheadMs ?? (() => 0);
  }

  /** Task by id, a seeded pick, or the first task. Unknown ids are rejected before this (see ResetData checks). */
  pickTask(data: Pick<ResetData, 'task_id' | 'seed'>): Task {
    if (data.task_id !== undefined) {
      const task = this.catalog.byId.get(data.task_id);
      if (!task) throw new EpisodeStateError(`unknown task_id "${data.task_id}"`);
      return task;
    }
    const { tasks } = this.catalog;
    if (tasks.length === 0) throw new EpisodeStateError(`environment ${this.environment.name} has no tasks`);
    const task = data.seed === undefined ? tasks[0] : tasks[createRng(`openenv-task:${data.seed}`).int(0, tasks.length)];
    return task!;
  }

  async reset(data: ResetData, signal?: AbortSignal): Promise<StepResult> {
    const task = this.pickTask(data);
    const seed = data.seed ?? 0;
    this.current = undefined;
    // Refused before the environment starts: an episode that could never be scored is not begun.
    if (!this.reward.ok) throw new EpisodeFailure(new DefectError('environment', this.reward.problem), `reset of task ${task.id}`);
    const lifetime = this.beginLifetime(signal);
    let context: string | undefined;
    try {
      context = (await this.environment.reset(task, { seed, signal: lifetime })).observation;
    } catch (error) {
      throw new EpisodeFailure(error, `reset of task ${task.id}`);
    }
    const names = exposedToolNames(this.environment.tools().map((t) => t.name));
    const id = data.episode_id ?? randomUUID();
    const startedAt = this.now();
    const current: Current = {
      id,
      task,
      deadlineAt: startedAt + task.limits.deadlineMs,
      names,
      tools: this.toolInfos(names),
      steps: 0,
      turns: 0,
      answered: 0,
      messages: [
        ...(task.systemPrompt ? [{ role: 'system' as const, content: task.systemPrompt }] : []),
        { role: 'user', content: context ? `${task.instruction}\n\n${context}` : task.instruction },
      ],
      uses: [],
      startedAt,
      lastAt: null,
      stepAt: startedAt,
      ended: null,
      broken: null,
    };
    this.current = current;
    const observation: Observation = {
      kind: 'reset',
      episode_id: id,
      task_id: task.id,
      instruction: task.instruction,
      system_prompt: task.systemPrompt ?? null,
      context: context ?? null,
      tools: current.tools,
      max_turns: task.limits.maxTurns,
      deadline_s: task.limits.deadlineMs / 1000,
    };
    return { observation, reward: null, done: false };
  }

  /** A new episode's lifetime signal, following `signal` (the session's); the previous episode's work is stopped. */
  private beginLifetime(signal: AbortSignal | undefined): AbortSignal {
    this.endLifetime(new Error('a reset started another episode'));
    const controller = new AbortController();
    // Forwarded by hand rather than AbortSignal.any: the session's signal outlives many episodes.
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    this.lifetime = { controller, release: () => signal?.removeEventListener('abort', forward) };
    return controller.signal;
  }

  private endLifetime(reason: unknown): void {
    const lifetime = this.lifetime;
    this.lifetime = undefined;
    lifetime?.release();
    lifetime?.controller.abort(reason);
  }

  private toolInfos(names: Map<string, string>): ToolInfo[] {
    const specs = new Map(this.environment.tools().map((s) => [s.name, s]));
    return [...names].map(([exposed, original]) => {
      const spec = specs.get(original)!;
      return { name: exposed, description: spec.description, input_schema: { ...spec.parameters, type: 'object' } };
    });
  }

  /** The tools as the agent sees them; before any reset, the environment's tools. */
  tools(): ToolInfo[] {
    return this.current ? this.current.tools : this.toolInfos(exposedToolNames(this.environment.tools().map((t) => t.name)));
  }

  async step(action: Action, options: StepOptions): Promise<StepResult> {
    if (action.type === 'list_tools') {
      // Listing changes nothing, so OpenEnv answers it before reset and after the end too.
      const current = this.current;
      if (current) current.steps++;
      return { observation: { kind: 'list_tools', tools: this.tools() }, reward: null, done: current?.ended != null };
    }
    const current = this.active();
    current.steps++;
    current.stepAt = this.now();
    // Counted even when late: the agent loop counts the model turn its deadline cut short.
    current.turns++;
    if (current.stepAt >= current.deadlineAt) return this.endedBeforeAction(current, action);
    return action.type === 'call_tool' ? this.callTool(current, action, options) : this.submit(current, action.answer ?? null);
  }

  private active(): Current {
    const current = this.current;
    if (!current) throw new EpisodeStateError('no episode yet: send reset first');
    if (current.broken) throw new EpisodeStateError(`the episode was stopped by a failure (${current.broken}); send reset to start another`);
    if (current.ended) {
      throw new EpisodeStateError(`the episode is over (${current.ended.termination_reason}, done: true); send reset to start another`);
    }
    return current;
  }

  private async callTool(current: Current, action: Extract<Action, { type: 'call_tool' }>, options: StepOptions): Promise<StepResult> {
    const callId = `call_${current.turns}`;
    const argumentsText = JSON.stringify(action.arguments);
    current.messages.push({ role: 'assistant', content: '', toolCalls: [{ id: callId, name: action.tool_name, arguments: action.arguments as JsonObject, argumentsText }] });
    const original = current.names.get(action.tool_name);
    const { outcome, timedOut, deadlineFired } =
      original === undefined
        ? { outcome: { ok: false as const, kind: 'unknown_tool' as const, error: `unknown tool "${action.tool_name}"; available: ${[...current.names.keys()].join(', ')}` }, timedOut: false, deadlineFired: false }
        : await this.boundedCall(current, { tool: original, args: action.arguments, callId }, options);
    const content = outcome.ok ? outcome.content : `Error: ${outcome.error}`;
    current.messages.push({ role: 'tool', toolCallId: callId, name: action.tool_name, content, isError: !outcome.ok });
    // The agent was told of an error when the call ran past timeout_s, whatever the tool returned later.
    current.uses.push({ id: callId, name: action.tool_name, arguments: argumentsText, result: { ok: outcome.ok && !timedOut, content } });
    current.lastAt = this.now();
    const observation: Extract<Observation, { kind: 'call_tool' }> = {
      kind: 'call_tool',
      tool_name: action.tool_name,
      result: outcome.ok ? { content: outcome.content, ...(outcome.data !== undefined ? { data: outcome.data } : {}) } : null,
      error: timedOut
        ? { error_type: 'timeout', message: `${action.tool_name} ran past timeout_s (${options.timeoutMs! / 1000} s)` }
        : outcome.ok
          ? null
          : { error_type: TOOL_ERROR_TYPES[outcome.kind], message: outcome.error },
      episode_end: null,
    };
    if (outcome.ok && outcome.endsEpisode) return this.finish(current, observation, { reason: 'submitted', answer: outcome.answer ?? null });
    return this.continueOrStop(current, observation, deadlineFired);
  }

  /** Runs the call until it returns; it is aborted at the task's deadline, at timeout_s, or when the session goes away. */
  private async boundedCall(
    current: Current,
    call: { tool: string; args: Record<string, unknown>; callId: string },
    options: StepOptions,
  ): Promise<{ outcome: ToolOutcome; timedOut: boolean; deadlineFired: boolean }> {
    const bound = new AbortController();
    const untilDeadline = current.deadlineAt - this.now();
    const byTimeout = options.timeoutMs !== undefined && options.timeoutMs < untilDeadline;
    let timedOut = false;
    let deadlineFired = false;
    const timer = setTimeout(
      () => {
        timedOut = byTimeout;
        deadlineFired = !byTimeout;
        bound.abort(new Error(byTimeout ? 'timeout_s' : 'task deadline'));
      },
      Math.max(1, timerDelay(byTimeout ? options.timeoutMs! : untilDeadline)),
    );
    // Forwarded by hand rather than AbortSignal.any: the session's signal outlives thousands of calls.
    const forward = () => bound.abort(options.signal.reason);
    if (options.signal.aborted) forward();
    else options.signal.addEventListener('abort', forward, { once: true });
    try {
      // A tool that ignores its abort would hold the step (and the client) forever.
      const outcome = await this.watched(current, `${call.tool} call`, () => this.environment.call(call.tool, call.args, { signal: bound.signal, callId: call.callId }));
      return { outcome, timedOut, deadlineFired };
    } catch (error) {
      throw this.fail(current, error, `${call.tool} call`);
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', forward);
    }
  }

  private async submit(current: Current, answer: string | null): Promise<StepResult> {
    current.messages.push({ role: 'assistant', content: answer ?? '', toolCalls: [] });
    current.lastAt = this.now();
    current.answered++;
    let followUp: string | null = null;
    if (answer !== null && this.environment.followUp) {
      try {
        const followUpOf = this.environment.followUp.bind(this.environment);
        followUp = await this.watched(current, 'follow-up turn', () => followUpOf(answer, current.answered));
      } catch (error) {
        throw this.fail(current, error, 'follow-up turn');
      }
    }
    const observation: Extract<Observation, { kind: 'submit' }> = { kind: 'submit', follow_up: followUp, episode_end: null };
    if (followUp === null) return this.finish(current, observation, { reason: 'answered', answer });
    current.messages.push({ role: 'user', content: followUp });
    return this.continueOrStop(current, observation);
  }

  /**
   * After a turn that did not end the episode: running out of time (first, as the agent loop checks
   * it first) or of turns ends it with no answer, judged on the final state as `gauntlet run` scores
   * such a rollout.
   */
  private async continueOrStop(current: Current, observation: Extract<Observation, { kind: 'call_tool' | 'submit' }>, deadlineFired = false): Promise<StepResult> {
    // The deadline's timer, not only the clock: a timer may fire a millisecond before the clock reads the deadline.
    if (deadlineFired || this.now() >= current.deadlineAt) return this.finish(current, observation, { reason: 'deadline', answer: null });
    if (current.turns >= current.task.limits.maxTurns) return this.finish(current, observation, { reason: 'max_turns', answer: null });
    return { observation, reward: null, done: false };
  }

  /** A step that arrived after the deadline: not run; the state the deadline left is judged. */
  private endedBeforeAction(current: Current, action: Exclude<Action, { type: 'list_tools' }>): Promise<StepResult> {
    const message = `the task's deadline (${current.task.limits.deadlineMs / 1000} s after reset) has passed; the action was not run`;
    const observation: Extract<Observation, { kind: 'call_tool' | 'submit' }> =
      action.type === 'call_tool'
        ? { kind: 'call_tool', tool_name: action.tool_name, result: null, error: { error_type: 'timeout', message }, episode_end: null }
        : { kind: 'submit', follow_up: null, episode_end: null };
    return this.finish(current, observation, { reason: 'deadline', answer: null });
  }

  private async finish(
    current: Current,
    observation: Extract<Observation, { kind: 'call_tool' | 'submit' }>,
    how: { reason: TerminationReason; answer: string | null },
  ): Promise<StepResult> {
    const verifier = await this.verify(current, how.answer);
    const scored = this.compose(current, verifier);
    const end: EpisodeEnd = {
      termination_reason: how.reason,
      answer: how.answer,
      passed: scored.passed,
      verifier_score: verifier.score,
      checks: verifier.checks.map((c) => ({ name: c.name, kind: c.kind, passed: c.passed, ...(c.detail !== undefined ? { detail: c.detail } : {}) })),
      reward_terms: scored.terms.map((t) => ({ name: t.name, value: t.value, weight: t.weight, source: t.source })),
    };
    current.ended = end;
    return { observation: { ...observation, episode_end: end }, reward: scored.reward, done: true };
  }

  /**
   * The verifier's outcome, or an EpisodeFailure: a verifier that throws is a failure, never a
   * score, and so is one the watchdog gives up on (see `watched`).
   */
  private async verify(current: Current, answer: string | null): Promise<VerifierOutcome> {
    try {
      return await this.watched(current, 'verification', () => this.environment.verify({ answer, messages: current.messages }));
    } catch (error) {
      throw this.fail(current, error, 'verification');
    }
  }

  /**
   * `work`'s result, or the watchdog's InfraError (not retryable) once the episode's work runs
   * `VERIFY_GRACE_MS` (plus the task's overhead) past the deadline, where `gauntlet run`'s watchdog
   * abandons a rollout whose tool or verifier hangs. The grace counts from the deadline, or from the
   * step's arrival when it came later: the time between steps is the client's. Work already past
   * the bound is not started; work given up on is told through the episode's lifetime signal.
   */
  private async watched<T>(current: Current, what: string, work: () => Promise<T>): Promise<T> {
    const task = current.task;
    const grace = VERIFY_GRACE_MS + this.overheadMs(task);
    const dueAt = Math.max(current.deadlineAt, current.stepAt) + grace;
    const late = () =>
      new InfraError('environment', `the episode's work did not finish within ${grace} ms after its ${task.limits.deadlineMs} ms deadline (${what} abandoned)`, {
        kind: 'watchdog',
        retryable: false,
      });
    if (this.now() >= dueAt) throw late();
    // Async, so an implementation that throws at once rejects here like one that throws later.
    const running = (async () => work())();
    let timer: NodeJS.Timeout | undefined;
    let abandoned: InfraError | undefined;
    const expired = new Promise<never>((_, reject) => {
      const check = () => {
        const left = dueAt - this.now();
        // Not yet: the delay was longer than a timer can wait.
        if (left >= 1) timer = setTimeout(check, timerDelay(left));
        else reject((abandoned = late()));
      };
      check();
    });
    try {
      return await Promise.race([running, expired]);
    } catch (error) {
      // Given up on: stop what still runs under the episode's signal (a check's sandbox commands die with it).
      if (error === abandoned) this.endLifetime(abandoned);
      throw error;
    } finally {
      clearTimeout(timer);
      // Work given up on may still fail later; nobody waits for it.
      running.catch(() => undefined);
    }
  }

  /** The episode's reward, by the code `gauntlet run` composes with; a term it cannot compute (a promised verifier reward missing) is a defect. */
  private compose(current: Current, verifier: VerifierOutcome): ComposedReward {
    // Reset refused the episode unless its reward is usable.
    const config = this.reward.ok ? this.reward.config : undefined;
    try {
      return composeToolReward({ verifier, tools: current.uses, turns: current.turns, startedAt: current.startedAt, lastAt: current.lastAt }, config);
    } catch (error) {
      throw this.fail(current, error, 'reward');
    }
  }

  private fail(current: Current, error: unknown, during: string): EpisodeFailure {
    const failure = new EpisodeFailure(error, during);
    current.broken = failure.message;
    return failure;
  }

  state(): EpisodeState {
    const current = this.current;
    if (!current) return initialState();
    return {
      episode_id: current.id,
      step_count: current.steps,
      task_id: current.task.id,
      turns: current.turns,
      max_turns: current.task.limits.maxTurns,
      done: current.ended !== null,
      termination_reason: current.ended?.termination_reason ?? null,
    };
  }

  async close(): Promise<void> {
    this.current = undefined;
    this.endLifetime(new Error('the episode was closed'));
    await this.environment.close();
  }
}
