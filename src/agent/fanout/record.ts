// Each fan-out agent is stored as its own rollout of the parent's run: its calls are `subagent`
// calls, the first one's parent is the call that dispatched the agents (in another rollout).
import { isDeepStrictEqual } from 'node:util';
import {
  modelCallIdFor,
  rolloutIdFor,
  SCHEMA_VERSION,
  type AttemptRecorder,
  type ModelCall,
  type ModelCallId,
  type ModelRequest,
  type ModelResult,
  type Rollout,
  type RolloutId,
  type RunId,
  type Store,
  type TaskId,
} from '../../core/index.ts';
import type { AgentOutcome } from './fanout.ts';

export interface FanoutRecording {
  store: Store;
  /** A run created by the caller (`store.createRun`); each agent becomes one rollout of it. */
  runId: RunId;
  /** The rollouts' `env` (e.g. `apps/radar`). */
  env: string;
  /** Prefix of the agents' task ids: `<stage>/<agent name>`. */
  stage: string;
  /** The call that dispatched the agents; each agent's first call names it as its parent. */
  parentCallId?: ModelCallId;
}

const SCAFFOLD = 'fanout';

export class AgentRecording {
  readonly rolloutId: RolloutId;
  private readonly taskId: TaskId;
  private readonly recording: FanoutRecording;
  private readonly recorder: AttemptRecorder;
  private readonly model: string;
  private readonly startedAt: number;
  private readonly stats = { modelCalls: 0, promptTokens: 0, completionTokens: 0 };
  private previous: { id: ModelCallId; request: ModelRequest; result: ModelResult } | null = null;

  constructor(options: { recording: FanoutRecording; name: string; model: string; now: () => number }) {
    this.recording = options.recording;
    this.taskId = `${options.recording.stage}/${options.name}` as TaskId;
    this.rolloutId = rolloutIdFor(options.recording.runId, this.taskId, 0);
    this.model = options.model;
    this.startedAt = options.now();
    this.recorder = options.recording.store.recorder({ runId: options.recording.runId, rolloutId: this.rolloutId, attempt: 1 });
    this.recorder.event('rollout_started', { taskId: this.taskId, attempt: 1, scaffold: SCAFFOLD, model: this.model });
  }

  call(input: { request: ModelRequest; result: ModelResult; startedAt: number; latencyMs: number }): void {
    const id = modelCallIdFor(this.rolloutId, 1, this.stats.modelCalls);
    const previous = this.previous;
    const call: ModelCall = {
      schemaVersion: SCHEMA_VERSION,
      id,
      runId: this.recording.runId,
      rolloutId: this.rolloutId,
      attempt: 1,
      index: this.stats.modelCalls,
      parentId: previous?.id ?? this.recording.parentCallId ?? null,
      extendsParent: previous ? extends_(previous.request, previous.result, input.request) : false,
      purpose: 'subagent',
      model: this.model,
      request: input.request,
      response: input.result.ok ? input.result.response : null,
      ...(input.result.wire ? { wire: input.result.wire } : {}),
      ...(input.result.ok ? {} : { error: { kind: input.result.kind, message: input.result.message } }),
      startedAt: new Date(input.startedAt).toISOString(),
      latencyMs: input.latencyMs,
    };
    this.recorder.modelCall(call);
    this.stats.modelCalls++;
    if (input.result.ok) {
      this.stats.promptTokens += reported(input.result.response.usage.promptTokens);
      this.stats.completionTokens += reported(input.result.response.usage.completionTokens);
    }
    this.previous = { id, request: input.request, result: input.result };
  }

  finish(outcome: AgentOutcome<unknown>, endedAtMs: number): void {
    const status = statusOf(outcome);
    const rollout: Rollout = {
      schemaVersion: SCHEMA_VERSION,
      id: this.rolloutId,
      runId: this.recording.runId,
      taskId: this.taskId,
      env: this.recording.env,
      epoch: 0,
      attempt: 1,
      seed: 0,
      model: this.model,
      scaffold: SCAFFOLD,
      ...status,
      // App agents are not graded: a finished agent's work is kept, not scored.
      score: null,
      passed: null,
      rewardTerms: [],
      verifier: null,
      finalAnswer: outcome.status === 'ok' ? finalAnswerOf(outcome.value) : null,
      stats: { turns: this.stats.modelCalls, modelCalls: this.stats.modelCalls, toolCalls: 0, toolErrors: 0, promptTokens: this.stats.promptTokens, completionTokens: this.stats.completionTokens },
      perturbations: [],
      startedAt: new Date(this.startedAt).toISOString(),
      endedAt: new Date(endedAtMs).toISOString(),
      durationMs: Math.max(0, endedAtMs - this.startedAt),
    };
    this.recording.store.commitRollout(rollout);
  }
}

/** A usage count as the endpoint reported it, or 0 when it is none (absent, NaN, negative, fractional): never a NaN or negative sum. */
function reported(count: number | undefined): number {
  return count !== undefined && Number.isSafeInteger(count) && count >= 0 ? count : 0;
}

function extends_(request: ModelRequest, result: ModelResult, next: ModelRequest): boolean {
  if (!result.ok) return false;
  const prefix = [...request.messages, result.response.message];
  return next.messages.length > prefix.length && isDeepStrictEqual(next.messages.slice(0, prefix.length), prefix);
}

function finalAnswerOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function statusOf(outcome: AgentOutcome<unknown>): Pick<Rollout, 'status' | 'terminationReason' | 'error'> {
  switch (outcome.status) {
    case 'ok':
      return { status: 'scored', terminationReason: 'answered', error: null };
    case 'deadline':
      return { status: 'scored', terminationReason: 'deadline', error: null };
    case 'cancelled':
    case 'not_started':
      return { status: 'cancelled', terminationReason: 'cancelled', error: null };
    case 'failed':
      switch (outcome.failure.kind) {
        case 'infra':
          return { status: 'infra_error', terminationReason: 'infra_error', error: { source: 'model', message: outcome.failure.message } };
        case 'output':
          return { status: 'scored', terminationReason: 'invalid_output', error: null };
        case 'defect':
          return { status: 'error', terminationReason: 'error', error: { source: 'gauntlet', message: outcome.failure.message } };
      }
  }
}
