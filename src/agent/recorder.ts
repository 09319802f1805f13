import {
  modelCallIdFor,
  SCHEMA_VERSION,
  type AttemptIdentity,
  type ModelCall,
  type ModelCallId,
  type ModelCallPurpose,
  type ModelRequest,
  type ModelResult,
} from '../core/index.ts';

export interface CallRecordInput {
  identity: AttemptIdentity;
  index: number;
  parentId: ModelCallId | null;
  /** Whether the request is the parent's prompt + output + new messages, unchanged. */
  extendsParent?: boolean;
  purpose: ModelCallPurpose;
  model: string;
  policyVersion?: string;
  request: ModelRequest;
  result: ModelResult;
  startedAt: number;
  endedAt: number;
}

/** The stored record of one model call, whatever made it (a turn, a summary, a judge). */
export function modelCallRecord(input: CallRecordInput): ModelCall {
  const { identity, result } = input;
  const policyVersion = input.policyVersion ?? (result.ok ? result.response.model : undefined);
  return {
    schemaVersion: SCHEMA_VERSION,
    id: modelCallIdFor(identity.rolloutId, identity.attempt, input.index),
    runId: identity.runId,
    rolloutId: identity.rolloutId,
    attempt: identity.attempt,
    index: input.index,
    parentId: input.parentId,
    ...(input.parentId ? { extendsParent: input.extendsParent ?? false } : {}),
    purpose: input.purpose,
    model: input.model,
    ...(policyVersion ? { policyVersion } : {}),
    request: input.request,
    response: result.ok ? result.response : null,
    ...(result.wire ? { wire: result.wire } : {}),
    ...(result.ok ? {} : { error: { kind: result.kind, message: result.message, ...(result.silentMs !== undefined ? { detail: { silentMs: result.silentMs } } : {}) } }),
    startedAt: new Date(input.startedAt).toISOString(),
    latencyMs: Math.max(0, input.endedAt - input.startedAt),
  };
}

/**
 * Whether `messages` is exactly `parentMessages` + `parentOutput` + new messages. Scaffolds resend
 * the same objects, so reference equality settles almost every case without serialising.
 */
export function extendsExactly(messages: readonly unknown[], parentMessages: readonly unknown[], parentOutput: unknown): boolean {
  const prefix = [...parentMessages, parentOutput];
  if (messages.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (messages[i] === prefix[i]) continue;
    if (JSON.stringify(messages[i]) !== JSON.stringify(prefix[i])) return false;
  }
  return true;
}
