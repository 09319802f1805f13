// Map N agents over items in parallel under one shared budget, with per-agent deadlines and
// cancellation of the rest once the budget is gone; each agent's calls are recorded as its own
// rollout, linked to the parent call that dispatched it.
import { setMaxListeners } from 'node:events';
import { errorMessage, InfraError, InputError, ModelRequest, timerDelay, type Message, type ModelClient, type ModelResponse, type ModelResult, type SamplingParams, type ToolSpec } from '../../core/index.ts';
import { costOf, SharedBudget, type BudgetReason, type BudgetSpent, type FanoutLimits, type Pricing, type Reservation } from './budget.ts';
import { AgentRecording, type FanoutRecording } from './record.ts';

/** What an agent asks the model; the fan-out adds budget, signal and recording. */
export interface AgentRequest {
  messages: Message[];
  tools?: ToolSpec[];
  sampling?: SamplingParams;
}

export interface AgentContext<I> {
  item: I;
  index: number;
  /** Aborted at the agent's deadline, when the budget runs out, or when the caller cancels. */
  signal: AbortSignal;
  /** One model call, charged to the shared budget and recorded; throws when it cannot be made or failed. */
  complete(request: AgentRequest): Promise<ModelResponse>;
}

/** Thrown by an agent whose model output cannot be used (no valid label in the reply): the model's doing, not ours. */
export class AgentOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentOutputError';
  }
}

/** Why an agent did not produce a value. */
export type AgentFailure =
  | { kind: 'infra'; message: string }
  | { kind: 'output'; message: string }
  | { kind: 'defect'; message: string };

export type AgentOutcome<O> = {
  index: number;
  name: string;
  calls: number;
  tokens: number;
  durationMs: number;
  /** The stored rollout of this agent, when recording. */
  rolloutId: string | null;
} & (
  | { status: 'ok'; value: O }
  | { status: 'failed'; failure: AgentFailure }
  | { status: 'deadline' }
  | { status: 'cancelled'; reason: BudgetReason | 'caller' }
  | { status: 'not_started'; reason: BudgetReason | 'caller' }
);

export interface FanoutResult<O> {
  /** One per item, in item order. */
  outcomes: AgentOutcome<O>[];
  /** The values of the agents that finished, in item order. */
  values: O[];
  started: number;
  spent: BudgetSpent;
  limits: FanoutLimits;
  /** Why the budget ran out, or null when it did not. */
  exhausted: BudgetReason | null;
  /**
   * Why some agents were cancelled or never started (the budget, or the caller's cancel), or null
   * when every agent ran to its end. Non-null, `values` are partial: a reduce over them is too.
   */
  stopped: BudgetReason | 'caller' | null;
  wallMs: number;
}

export interface FanoutOptions<I, O> {
  items: readonly I[];
  model: ModelClient;
  agent: (context: AgentContext<I>) => Promise<O>;
  /** Agents in flight at once. */
  concurrency: number;
  limits?: FanoutLimits;
  pricing?: Pricing;
  /** A budget shared with other fan-outs (stages of one app run); replaces `limits` and `pricing`. */
  budget?: SharedBudget;
  /** Each agent's own wall-time limit. */
  agentDeadlineMs?: number;
  /** A stable name per agent (its stored task id suffix); the index by default. */
  name?: (item: I, index: number) => string;
  signal?: AbortSignal;
  recording?: FanoutRecording;
  now?: () => number;
}

/** Runs every agent it can within the budget; never throws for an agent's failure. */
export async function fanOut<I, O>(options: FanoutOptions<I, O>): Promise<FanoutResult<O>> {
  // Zero or NaN would start no worker and report every item as cancelled by the caller.
  if (!(Number.isInteger(options.concurrency) || options.concurrency === Infinity) || options.concurrency < 1) {
    throw new InputError('fan-out concurrency', `got ${options.concurrency}`, 'a whole number of agents in flight, at least 1');
  }
  const now = options.now ?? Date.now;
  const started = now();
  const budget = options.budget ?? new SharedBudget({ limits: options.limits ?? {}, ...(options.pricing ? { pricing: options.pricing } : {}), now });
  const everyone = new AbortController();
  // Every agent in flight listens to it: `concurrency` listeners are expected, not a leak.
  setMaxListeners(0, everyone.signal);
  const stopAll = (): void => everyone.abort();
  options.signal?.addEventListener('abort', stopAll, { once: true });
  const wallLeft = budget.wallLeftMs();
  const wallTimer = Number.isFinite(wallLeft)
    ? setTimeout(() => {
        budget.expire('wall_time');
        stopAll();
      }, timerDelay(wallLeft))
    : undefined;

  const outcomes: AgentOutcome<O>[] = new Array<AgentOutcome<O>>(options.items.length);
  const nameOf = (index: number): string => options.name?.(options.items[index] as I, index) ?? String(index);
  const stopReason = (): BudgetReason | 'caller' | null => budget.exhausted() ?? (options.signal?.aborted ? 'caller' : null);
  let next = 0;
  let startedCount = 0;

  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next;
      if (index >= options.items.length) return;
      // The gate: no agent starts once the budget is gone or the caller cancelled.
      // (A worker that failed has stopped everyone, with no budget or caller reason.)
      if (stopReason() || everyone.signal.aborted) return;
      next++;
      startedCount++;
      outcomes[index] = await runAgent({ index, name: nameOf(index), options, budget, everyone: everyone.signal, onExhausted: stopAll, now });
    }
  };
  // A worker fails only on a bug or a store that refuses a record (never for an agent's failure):
  // the others are stopped and waited for before it is thrown, so none runs on unreported.
  const failures: unknown[] = [];
  const guarded = async (): Promise<void> => {
    try {
      await worker();
    } catch (error) {
      failures.push(error);
      stopAll();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.items.length) }, guarded));
  } finally {
    if (wallTimer) clearTimeout(wallTimer);
    options.signal?.removeEventListener('abort', stopAll);
  }
  if (failures.length > 0) throw failures[0];
  const reason = stopReason() ?? 'caller';
  for (let index = 0; index < options.items.length; index++) {
    outcomes[index] ??= { index, name: nameOf(index), status: 'not_started', reason, calls: 0, tokens: 0, durationMs: 0, rolloutId: null };
  }
  return {
    outcomes,
    values: outcomes.flatMap((o) => (o.status === 'ok' ? [o.value] : [])),
    started: startedCount,
    spent: { ...budget.spent },
    limits: budget.limits,
    exhausted: budget.exhausted(),
    stopped: stoppedBy(outcomes),
    wallMs: now() - started,
  };
}

/** The reason of the first agent that was cancelled or never started, or null when none was. */
function stoppedBy(outcomes: readonly AgentOutcome<unknown>[]): BudgetReason | 'caller' | null {
  for (const outcome of outcomes) if (outcome.status === 'cancelled' || outcome.status === 'not_started') return outcome.reason;
  return null;
}

interface RunAgentInput<I, O> {
  index: number;
  name: string;
  options: FanoutOptions<I, O>;
  budget: SharedBudget;
  everyone: AbortSignal;
  onExhausted: () => void;
  now: () => number;
}

async function runAgent<I, O>(input: RunAgentInput<I, O>): Promise<AgentOutcome<O>> {
  const { index, name, options, budget, now } = input;
  const startedAt = now();
  // One controller per agent, aborted by the fan-out's signal or the deadline. Not AbortSignal.any:
  // on Node 20 a composite signal with an abort listener is held until it aborts, which an agent
  // that finished never does, so every agent would leak a few kilobytes for the process's life.
  const own = new AbortController();
  let pastDeadline = false;
  const stopWithEveryone = (): void => own.abort();
  if (input.everyone.aborted) own.abort();
  else input.everyone.addEventListener('abort', stopWithEveryone, { once: true });
  const deadline =
    options.agentDeadlineMs === undefined
      ? undefined
      : setTimeout(() => {
          pastDeadline = !own.signal.aborted;
          own.abort(new Error('deadline'));
        }, timerDelay(options.agentDeadlineMs));
  const signal = own.signal;
  const recording = options.recording ? new AgentRecording({ recording: options.recording, name, model: options.model.spec, now }) : null;
  let calls = 0;
  let tokens = 0;

  const complete = async (request: AgentRequest): Promise<ModelResponse> => {
    const full = ModelRequest.parse({ messages: request.messages, tools: request.tools ?? [], sampling: request.sampling ?? {} });
    let reservation: Reservation;
    for (;;) {
      if (signal.aborted) throw new AgentStopped();
      // A call is a start too: none is sent once the budget is gone.
      if (budget.exhausted()) {
        input.onExhausted();
        throw new AgentStopped();
      }
      const admitted = budget.tryReserve(full);
      if (admitted !== 'wait') {
        reservation = admitted;
        break;
      }
      await budget.settled(signal);
    }
    const callStarted = now();
    let result: ModelResult;
    try {
      result = await options.model.complete(full, { signal });
    } finally {
      reservation.release();
    }
    calls++;
    // Charged before it is recorded: a store that refuses the record must not make the call free.
    const cost = result.ok ? costOf(full, result.response) : null;
    if (cost) {
      tokens += cost.promptTokens + cost.completionTokens;
      budget.charge(cost);
      if (budget.exhausted()) input.onExhausted();
    }
    recording?.call({ request: full, result, startedAt: callStarted, latencyMs: now() - callStarted });
    if (!result.ok) {
      if (signal.aborted) throw new AgentStopped();
      throw new InfraError('model', `${options.model.spec}: ${result.message}`, { kind: result.kind, retryable: result.retryable });
    }
    return result.response;
  };

  const stopped = new Promise<'stopped'>((resolve) => {
    if (signal.aborted) resolve('stopped');
    else signal.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  let outcome: AgentOutcome<O>;
  const base = (): { index: number; name: string; calls: number; tokens: number; durationMs: number; rolloutId: string | null } => ({
    index,
    name,
    calls,
    tokens,
    durationMs: now() - startedAt,
    rolloutId: recording?.rolloutId ?? null,
  });
  try {
    // An agent that ignores its signal still loses its slot at the deadline.
    const settled = await Promise.race([options.agent({ item: options.items[index] as I, index, signal, complete }).then((value) => ({ value })), stopped]);
    if (settled === 'stopped') outcome = stoppedOutcome(base(), { pastDeadline, budget });
    else outcome = { ...base(), status: 'ok', value: settled.value };
  } catch (error) {
    if (error instanceof AgentStopped || signal.aborted) outcome = stoppedOutcome(base(), { pastDeadline, budget });
    else outcome = { ...base(), status: 'failed', failure: failureOf(error) };
  } finally {
    if (deadline) clearTimeout(deadline);
    input.everyone.removeEventListener('abort', stopWithEveryone);
    // The agent's slot is over: a call it left in flight (fired and not awaited, or still running
    // past its deadline) is aborted, and `complete` refuses any later one, so nothing it started
    // keeps spending after the fan-out has reported.
    own.abort(new Error('the agent ended'));
  }
  recording?.finish(outcome, now());
  return outcome;
}

/** Internal: the agent's signal fired or the budget is gone; the outcome says which. */
class AgentStopped extends Error {
  constructor() {
    super('agent stopped');
  }
}

function stoppedOutcome<O>(
  base: { index: number; name: string; calls: number; tokens: number; durationMs: number; rolloutId: string | null },
  why: { pastDeadline: boolean; budget: SharedBudget },
): AgentOutcome<O> {
  if (why.pastDeadline) return { ...base, status: 'deadline' };
  return { ...base, status: 'cancelled', reason: why.budget.exhausted() ?? 'caller' };
}

function failureOf(error: unknown): AgentFailure {
  if (error instanceof InfraError) return { kind: 'infra', message: error.message };
  if (error instanceof AgentOutputError) return { kind: 'output', message: error.message };
  return { kind: 'defect', message: errorMessage(error) };
}

/** Map then reduce: the reducer sees the values of the agents that finished, in item order. */
export async function mapReduce<I, O, R>(options: FanoutOptions<I, O> & { reduce: (values: O[], result: FanoutResult<O>) => R }): Promise<{ reduced: R; result: FanoutResult<O> }> {
  const result = await fanOut(options);
  return { reduced: options.reduce(result.values, result), result };
}
