import {
  DefectError,
  errorMessage,
  InfraError,
  markImmutable,
  type AssistantMessage,
  type AttemptIdentity,
  type Environment,
  type FailureKind,
  type InfraSource,
  type Message,
  type ModelCallId,
  type ModelCallPurpose,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type ModelResult,
  type RolloutRecorder,
  type RolloutStats,
  type Rng,
  type SamplingParams,
  type Task,
  type TerminationReason,
  type ToolMessage,
  timerDelay,
} from '../core/index.ts';
import { estimateTokens, splitForSummary, SUMMARY_INSTRUCTION, transcriptText, type ContextPolicy } from './context.ts';
import { extendsExactly, modelCallRecord } from './recorder.ts';
import { interleaved, type Scaffold } from './scaffold.ts';

export const DEFAULT_SYSTEM_PROMPT =
  'You are a capable assistant working in a software environment through the tools provided. ' +
  'Use the tools to do what the user asks, checking facts before acting and changing nothing the task does not require. ' +
  'When the work is done, reply with a short final answer (or call the submit tool if there is one).';

export type RolloutIdentity = AttemptIdentity;

export interface AgentSettings {
  scaffold?: Scaffold;
  maxTurns: number;
  /** Absolute time (ms since epoch, by `now`) after which the rollout stops as `deadline`. */
  deadlineAt: number;
  sampling?: SamplingParams;
  /** Consecutive turns whose tool calls were all unusable before the rollout ends as `invalid_output`. */
  maxConsecutiveInvalid?: number;
  context?: ContextPolicy;
  rng?: Rng;
  now?: () => number;
  /**
   * Per model request. When the deadline fires while the endpoint has sent nothing for at least
   * this long, the endpoint was hanging: the rollout is an infra error, not the model's deadline.
   */
  requestTimeoutMs?: number;
  /** Model output (content, reasoning, tool arguments) above this many bytes is not stored: `invalid_output`. */
  maxOutputBytes?: number;
  /**
   * Recorded on every call: the checkpoint serving the model. A function is read at each call, for
   * services whose trainer announces new versions while rollouts are in flight.
   */
  policyVersion?: string | (() => string | undefined);
}

export interface AgentRun {
  task: Task;
  environment: Environment;
  model: ModelClient;
  recorder: RolloutRecorder;
  identity: RolloutIdentity;
  settings: AgentSettings;
  /** What `environment.reset` returned for the first user turn. */
  observation?: string;
  signal?: AbortSignal;
  /**
   * Awaited after each model answer, before the turn's work (recording, tools, the next request);
   * `undefined` means go on now. The runner paces turns so a burst of answers cannot hold the
   * event loop.
   */
  pace?: () => Promise<void> | undefined;
}

export interface AgentResult {
  terminationReason: TerminationReason;
  answer: string | null;
  history: Message[];
  stats: RolloutStats;
  /** Set when infrastructure failed; the rollout is then `infra_error` and never scored. */
  infraError?: InfraFailure;
}

export interface InfraFailure {
  source: InfraSource;
  kind: FailureKind;
  message: string;
  retryable: boolean;
}

/** What one turn decided: keep going, or stop with a reason. */
type NextStep =
  | { kind: 'continue' }
  | { kind: 'stop'; reason: TerminationReason; answer: string | null }
  | ({ kind: 'infra' } & Omit<InfraFailure, 'kind'> & { failure: FailureKind });

function policyVersionOf(source: AgentSettings['policyVersion']): { policyVersion?: string } {
  const version = typeof source === 'function' ? source() : source;
  return version ? { policyVersion: version } : {};
}

/** Bytes of what the model produced, as they would be stored (the parsed message; the raw copy is about as big). */
function outputBytes(response: ModelResponse): number {
  const m = response.message;
  let bytes = Buffer.byteLength(m.content) + Buffer.byteLength(m.reasoning?.text ?? '');
  for (const call of m.toolCalls) bytes += Buffer.byteLength(call.argumentsText) + call.name.length;
  return bytes;
}

/** A response too large to store, replaced by a record of its size. */
function oversized(result: Extract<ModelResult, { ok: true }>, bytes: number, limit: number): ModelResult {
  const wire = result.wire ? { url: result.wire.url, request: result.wire.request, ...(result.wire.status !== undefined ? { status: result.wire.status } : {}) } : undefined;
  return {
    ok: false,
    kind: 'output_too_large',
    message: `the model produced ${bytes} bytes of output in one call, above the ${limit}-byte limit (maxOutputBytes); not stored`,
    retryable: false,
    ...(wire ? { wire } : {}),
  };
}

/**
 * The agent loop: model turn → tool calls → tool results → model turn …, until the model answers,
 * submits, or a limit is reached. Everything the model does wrong is returned to it as a tool
 * error and scored; only infrastructure failures end the rollout as infra errors.
 */
export async function runAgent(run: AgentRun): Promise<AgentResult> {
  const { task, environment, model, recorder, identity, settings } = run;
  const scaffold = settings.scaffold ?? interleaved;
  const now = settings.now ?? Date.now;
  const maxInvalid = settings.maxConsecutiveInvalid ?? 3;
  const stats: RolloutStats = { turns: 0, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 };

  // One signal for everything in flight: the caller's cancel or the deadline, whichever comes first.
  const deadline = new AbortController();
  const remaining = settings.deadlineAt - now();
  const timer = setTimeout(() => deadline.abort(new Error('deadline')), timerDelay(remaining));
  // A guard, not work: an abandoned rollout (the runner's watchdog gave up on a hung tool) must not keep the process alive until its deadline.
  timer.unref();
  const signal = run.signal ? AbortSignal.any([run.signal, deadline.signal]) : deadline.signal;

  const history: Message[] = [
    { role: 'system', content: task.systemPrompt ?? DEFAULT_SYSTEM_PROMPT },
    { role: 'user', content: run.observation ? `${task.instruction}\n\n${run.observation}` : task.instruction },
  ];
  // Offered unchanged on every turn (the adapters cache their wire forms by it too), so its JSON is kept for the store.
  const tools = markImmutable(environment.tools());
  let callIndex = 0;
  // The call whose context the next one continues, with what it saw and said.
  let parent: { id: ModelCallId; messages: readonly Message[]; output: Message | null } | null = null;
  let invalidStreak = 0;
  let answered = 0;
  const completeOptions = {
    signal,
    context: { task, environment, ...(settings.rng ? { rng: settings.rng } : {}) },
    ...(settings.requestTimeoutMs ? { timeoutMs: settings.requestTimeoutMs } : {}),
  };

  const callModel = async (request: ModelRequest, purpose: ModelCallPurpose): Promise<{ result: ModelResult; id: ModelCallId }> => {
    const index = callIndex++;
    const startedAt = now();
    let result = await model.complete(request, completeOptions);
    const endedAt = now();
    const waited = run.pace?.();
    if (waited) await waited;
    stats.modelCalls++;
    if (result.ok && settings.maxOutputBytes !== undefined) {
      const bytes = outputBytes(result.response);
      if (bytes > settings.maxOutputBytes) result = oversized(result, bytes, settings.maxOutputBytes);
    }
    // A summary starts a new context; everything else continues its parent's when the prompt allows.
    const extendsParent = purpose !== 'summary' && parent !== null && parent.output !== null && extendsExactly(request.messages, parent.messages, parent.output);
    const record = modelCallRecord({
      identity,
      index,
      parentId: parent?.id ?? null,
      extendsParent,
      purpose,
      model: model.spec,
      ...policyVersionOf(settings.policyVersion),
      request,
      result,
      startedAt,
      endedAt,
    });
    recorder.modelCall(record);
    if (result.ok) {
      stats.promptTokens += result.response.usage.promptTokens ?? 0;
      stats.completionTokens += result.response.usage.completionTokens ?? 0;
    }
    parent = { id: record.id, messages: request.messages, output: result.ok ? result.response.message : null };
    return { result, id: record.id };
  };

  /**
   * Failed model call. A cancel is ours; a call the deadline cut short blames the endpoint only if
   * it had been silent for a whole request timeout (hung), otherwise the model ran out of time. A
   * call that failed on its own (a 429 whose wait the deadline ended, a 5xx, a time-out) is the
   * endpoint's failure whenever the deadline fired.
   */
  const modelFailure = (result: Extract<ModelResult, { ok: false }>): NextStep => {
    if (result.kind === 'output_too_large' || result.kind === 'unusable_output') return { kind: 'stop', reason: 'invalid_output', answer: null };
    if (run.signal?.aborted && !deadline.signal.aborted) return { kind: 'stop', reason: 'cancelled', answer: null };
    if (deadline.signal.aborted && result.kind === 'aborted') {
      const silent = settings.requestTimeoutMs !== undefined && result.silentMs !== undefined && result.silentMs >= settings.requestTimeoutMs;
      if (!silent) return { kind: 'stop', reason: 'deadline', answer: null };
      return {
        kind: 'infra',
        source: 'model',
        failure: 'silent_endpoint',
        message: `the model endpoint sent nothing for ${Math.round(result.silentMs! / 1000)} s (request timeout ${Math.round(settings.requestTimeoutMs! / 1000)} s) when the rollout's deadline fired`,
        retryable: true,
      };
    }
    return { kind: 'infra', source: 'model', failure: result.kind, message: `${result.kind}: ${result.message}`, retryable: result.retryable };
  };

  const compactIfNeeded = async (): Promise<NextStep | null> => {
    const policy = settings.context;
    if (!policy && !task.limits.contextTokens) return null;
    const view = scaffold.view(history);
    const tokens = estimateTokens(view);
    if (!policy || tokens <= policy.budgetTokens) {
      if (task.limits.contextTokens && tokens > task.limits.contextTokens) return { kind: 'stop', reason: 'context_limit', answer: null };
      return null;
    }
    const parts = splitForSummary(history, policy.keepRecentTurns);
    if (!parts) return { kind: 'stop', reason: 'context_limit', answer: null };
    const { result, id } = await callModel(
      {
        messages: [
          { role: 'system', content: SUMMARY_INSTRUCTION },
          { role: 'user', content: transcriptText([...parts.head, ...parts.middle]) },
        ],
        tools: [],
        sampling: settings.sampling ?? {},
      },
      'summary',
    );
    if (!result.ok) return modelFailure(result);
    const summary: Message = { role: 'user', content: `Summary of the work so far (earlier turns were condensed):\n${result.response.message.content}` };
    history.splice(0, history.length, ...parts.head, summary, ...parts.recent);
    recorder.event('context_compacted', { summaryCallId: id, removedMessages: parts.middle.length, tokensBefore: tokens, tokensAfter: estimateTokens(scaffold.view(history)) });
    return null;
  };

  const runTools = async (message: AssistantMessage): Promise<NextStep> => {
    let usable = 0;
    for (const call of message.toolCalls) {
      stats.toolCalls++;
      recorder.event('tool_call', { id: call.id, name: call.name, arguments: call.argumentsText });
      let reply: ToolMessage;
      if (call.arguments === null) {
        reply = toolError(call, `could not parse the arguments as a JSON object: ${call.parseError ?? 'invalid JSON'}`);
      } else {
        const outcome = await environment.call(call.name, call.arguments, { signal, callId: call.id });
        if (outcome.ok) {
          usable++;
          reply = { role: 'tool', toolCallId: call.id, name: call.name, content: outcome.content, isError: false };
          if (outcome.endsEpisode) {
            history.push(reply);
            recorder.event('tool_result', { id: call.id, ok: true, content: outcome.content });
            return { kind: 'stop', reason: 'submitted', answer: outcome.answer ?? (message.content || null) };
          }
        } else {
          if (outcome.kind !== 'unknown_tool' && outcome.kind !== 'invalid_arguments') usable++;
          reply = toolError(call, outcome.error);
        }
      }
      if (reply.isError) stats.toolErrors++;
      history.push(reply);
      recorder.event('tool_result', { id: call.id, ok: !reply.isError, content: reply.content });
      if (deadline.signal.aborted) return { kind: 'stop', reason: 'deadline', answer: null };
    }
    invalidStreak = usable === 0 ? invalidStreak + 1 : 0;
    if (invalidStreak >= maxInvalid) return { kind: 'stop', reason: 'invalid_output', answer: null };
    return { kind: 'continue' };
  };

  const turn = async (): Promise<NextStep> => {
    if (deadline.signal.aborted) return { kind: 'stop', reason: 'deadline', answer: null };
    if (run.signal?.aborted) return { kind: 'stop', reason: 'cancelled', answer: null };
    const compacted = await compactIfNeeded();
    if (compacted) return compacted;
    stats.turns++;
    const { result } = await callModel({ messages: scaffold.view(history), tools, sampling: settings.sampling ?? {} }, 'turn');
    if (!result.ok) return modelFailure(result);
    const message = result.response.message;
    history.push(message);
    if (message.toolCalls.length === 0) {
      if (result.response.finishReason === 'length') return { kind: 'stop', reason: 'output_truncated', answer: message.content || null };
      answered++;
      const next = environment.followUp ? await environment.followUp(message.content, answered, { signal }) : null;
      if (next === null) return { kind: 'stop', reason: 'answered', answer: message.content };
      history.push({ role: 'user', content: next });
      return { kind: 'continue' };
    }
    return runTools(message);
  };

  try {
    recorder.event('rollout_started', { taskId: task.id, attempt: identity.attempt, scaffold: scaffold.name, model: model.spec });
    // The model hears how its rollout ended: a scripted one fails a rollout that left turns unplayed.
    const ended = (reason: TerminationReason, answer: string | null): AgentResult => {
      model.rolloutEnded?.({ reason, history });
      return { terminationReason: reason, answer, history, stats };
    };
    for (let i = 0; i < settings.maxTurns; i++) {
      const step = await turn();
      if (step.kind === 'stop') return ended(step.reason, step.answer);
      if (step.kind === 'infra') {
        const infraError = { source: step.source, kind: step.failure, message: step.message, retryable: step.retryable };
        return { terminationReason: 'infra_error', answer: null, history, stats, infraError };
      }
    }
    return ended('max_turns', null);
  } catch (error) {
    if (error instanceof InfraError) {
      return { terminationReason: 'infra_error', answer: null, history, stats, infraError: { source: error.source, kind: error.kind, message: error.message, retryable: error.retryable } };
    }
    if (error instanceof DefectError) throw error;
    // Anything else is a bug in the loop or a scaffold, not the model's doing and not bad luck.
    throw new DefectError('gauntlet', `agent loop failed on task ${task.id}: ${errorMessage(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    // The rollout's signal ends with it: whatever still listens (a tool that kept a listener, a
    // transport that did) hears so, and Node, which holds a signal made by AbortSignal.any while
    // it has listeners and a live source, can let it and what it reaches go.
    deadline.abort(new Error('the rollout ended'));
  }
}

function toolError(call: { id: string; name: string }, error: string): ToolMessage {
  return { role: 'tool', toolCallId: call.id, name: call.name, content: `Error: ${error}`, isError: true };
}
