import {
  modelCallIdFor,
  SCHEMA_VERSION,
  type EventType,
  type JsonValue,
  type ModelCall,
  type ModelCallId,
  type ModelCallPurpose,
  type ModelRequest,
  type ModelResult,
  type RolloutId,
  type RunId,
} from '../core/index.ts';

/** Where the loop reports what happened, as it happens. The store implements it; tests collect in memory. */
export interface RolloutRecorder {
  modelCall(call: ModelCall): void;
  event(type: EventType, data: JsonValue): void;
}

export function memoryRecorder(): RolloutRecorder & { calls: ModelCall[]; events: { type: EventType; data: JsonValue }[] } {
  const calls: ModelCall[] = [];
  const events: { type: EventType; data: JsonValue }[] = [];
  return {
    calls,
    events,
    modelCall: (call) => void calls.push(call),
    event: (type, data) => void events.push({ type, data }),
  };
}

export const nullRecorder: RolloutRecorder = { modelCall: () => {}, event: () => {} };

export interface CallRecordInput {
  identity: { runId: RunId; rolloutId: RolloutId; attempt: number };
  index: number;
  parentId: ModelCallId | null;
  purpose: ModelCallPurpose;
  model: string;
  request: ModelRequest;
  result: ModelResult;
  startedAt: number;
  endedAt: number;
}

/** The stored record of one model call, whatever made it (a turn, a summary, a judge). */
export function modelCallRecord(input: CallRecordInput): ModelCall {
  const { identity, result } = input;
  return {
    schemaVersion: SCHEMA_VERSION,
    id: modelCallIdFor(identity.rolloutId, identity.attempt, input.index),
    runId: identity.runId,
    rolloutId: identity.rolloutId,
    attempt: identity.attempt,
    index: input.index,
    parentId: input.parentId,
    purpose: input.purpose,
    model: input.model,
    request: input.request,
    response: result.ok ? result.response : null,
    ...(result.wire ? { wire: result.wire } : {}),
    ...(result.ok ? {} : { error: { kind: result.kind, message: result.message } }),
    startedAt: new Date(input.startedAt).toISOString(),
    latencyMs: Math.max(0, input.endedAt - input.startedAt),
  };
}
