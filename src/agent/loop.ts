import {
  errorMessage,
  InfraError,
  type AssistantMessage,
  type Environment,
  type InfraSource,
  type Message,
  type ModelCallId,
  type ModelCallPurpose,
  type ModelClient,
  type ModelRequest,
  type ModelResult,
  type RolloutId,
  type RolloutStats,
  type RunId,
  type Rng,
  type SamplingParams,
  type Task,
  type TerminationReason,
  type ToolMessage,
} from '../core/index.ts';
import { estimateTokens, splitForSummary, SUMMARY_INSTRUCTION, transcriptText, type ContextPolicy } from './context.ts';
import { modelCallRecord, type RolloutRecorder } from './recorder.ts';
import { interleaved, type Scaffold } from './scaffold.ts';

export const DEFAULT_SYSTEM_PROMPT =
  'You are a capable assistant working in a software environment through the tools provided. ' +
  'Use the tools to do what the user asks, checking facts before acting and changing nothing the task does not require. ' +
  'When the work is done, reply with a short final answer (or call the submit tool if there is one).';

export interface RolloutIdentity {
  runId: RunId;
  rolloutId: RolloutId;
  attempt: number;
}

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
}

export interface AgentResult {
  terminationReason: TerminationReason;
  answer: string | null;
  history: Message[];
  stats: RolloutStats;
  /** Set when infrastructure failed; the rollout is then `infra_error` and never scored. */
  infraError?: { source: InfraSource; message: string; retryable: boolean };
}

/** What one turn decided: keep going, or stop with a reason. */
type NextStep =
  | { kind: 'continue' }
  | { kind: 'stop'; reason: TerminationReason; answer: string | null }
  | { kind: 'infra'; source: InfraSource; message: string; retryable: boolean };

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
  const timer = setTimeout(() => deadline.abort(new Error('deadline')), Math.max(0, remaining));
  const signal = run.signal ? AbortSignal.any([run.signal, deadline.signal]) : deadline.signal;

  const history: Message[] = [
    { role: 'system', content: task.systemPrompt ?? DEFAULT_SYSTEM_PROMPT },
    { role: 'user', content: run.observation ? `${task.instruction}\n\n${run.observation}` : task.instruction },
  ];
  const tools = environment.tools();
  let callIndex = 0;
  let parentId: ModelCallId | null = null;
  let invalidStreak = 0;
  let answered = 0;

  const callModel = async (request: ModelRequest, purpose: ModelCallPurpose): Promise<{ result: ModelResult; id: ModelCallId }> => {
    const index = callIndex++;
    const startedAt = now();
    const result = await model.complete(request, { signal, context: { task, environment, ...(settings.rng ? { rng: settings.rng } : {}) } });
    stats.modelCalls++;
    const record = modelCallRecord({ identity, index, parentId, purpose, model: model.spec, request, result, startedAt, endedAt: now() });
    const id = record.id;
    recorder.modelCall(record);
    if (result.ok) {
      stats.promptTokens += result.response.usage.promptTokens ?? 0;
      stats.completionTokens += result.response.usage.completionTokens ?? 0;
    }
    parentId = id;
    return { result, id };
  };

  /** Failed model call: a deadline or cancel we caused is not the endpoint's fault. */
  const modelFailure = (result: Extract<ModelResult, { ok: false }>): NextStep => {
    if (deadline.signal.aborted) return { kind: 'stop', reason: 'deadline', answer: null };
    if (run.signal?.aborted) return { kind: 'stop', reason: 'cancelled', answer: null };
    return { kind: 'infra', source: 'model', message: `${result.kind}: ${result.message}`, retryable: result.retryable };
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
      const next = environment.followUp ? await environment.followUp(message.content, answered) : null;
      if (next === null) return { kind: 'stop', reason: 'answered', answer: message.content };
      history.push({ role: 'user', content: next });
      return { kind: 'continue' };
    }
    return runTools(message);
  };

  try {
    recorder.event('rollout_started', { taskId: task.id, attempt: identity.attempt, scaffold: scaffold.name, model: model.spec });
    for (let i = 0; i < settings.maxTurns; i++) {
      const step = await turn();
      if (step.kind === 'stop') return { terminationReason: step.reason, answer: step.answer, history, stats };
      if (step.kind === 'infra') return { terminationReason: 'infra_error', answer: null, history, stats, infraError: step };
    }
    return { terminationReason: 'max_turns', answer: null, history, stats };
  } catch (error) {
    if (error instanceof InfraError) {
      return { terminationReason: 'infra_error', answer: null, history, stats, infraError: { source: error.source, message: error.message, retryable: error.retryable } };
    }
    if (deadline.signal.aborted) return { terminationReason: 'deadline', answer: null, history, stats };
    throw new Error(`agent loop failed on task ${task.id}: ${errorMessage(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function toolError(call: { id: string; name: string }, error: string): ToolMessage {
  return { role: 'tool', toolCallId: call.id, name: call.name, content: `Error: ${error}`, isError: true };
}
