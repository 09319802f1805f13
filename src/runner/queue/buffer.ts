// The worker's side of storing: `executeRollout` records into this buffer exactly what it would
// record into the store, recorder by recorder, and the buffer becomes the job's result. Calls are
// delta-encoded as the store does (a 100-turn rollout must not carry its history 100 times).
import type { AttemptIdentity, AttemptRecorder, AttemptsSpend, JsonValue, ModelCall, Rollout, RolloutRecorder, Store } from '../../core/index.ts';
import { findNonFinite, hasNonFinite, NON_FINITE_KEY } from '../../store/index.ts';
import type { EncodedCall, RecordedEntry, RecorderSession, RolloutResult } from './jobs.ts';

/** The part of the store a rollout writes through (`RolloutContext.store`). */
export type RolloutStore = Pick<Store, 'recorder' | 'nextAttempt' | 'attemptsSpend'>;

/** What a rollout that is not resumed spent before its first attempt. */
const NOTHING_SPENT: AttemptsSpend = { attempts: 0, modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 };

/**
 * `attemptsSpend` of a store-like object that knows only what its rollout's starter told it: the
 * first attempt and what the attempts before it spent (`earlier`; absent: nothing, or a starter of
 * an older Gauntlet that did not say).
 */
export function spendBefore(known: { rolloutId: string; firstAttempt: number; earlier: AttemptsSpend | undefined }, rolloutId: string, beforeAttempt: number): AttemptsSpend {
  if (rolloutId !== known.rolloutId || beforeAttempt !== known.firstAttempt) {
    throw new Error(`rollout ${known.rolloutId} starting at attempt ${known.firstAttempt} asked what ${rolloutId} spent before attempt ${beforeAttempt}`);
  }
  return { ...(known.earlier ?? NOTHING_SPENT) };
}

/** The wire body as an object, when it is one. */
export function wireBody(request: JsonValue | undefined): Record<string, JsonValue> | null {
  return request !== null && typeof request === 'object' && !Array.isArray(request) ? request : null;
}

/** Scaffolds resend the same message objects, so the shared prefix is found by reference (as the store does). */
function prefixByReference<T>(a: readonly T[], b: readonly T[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * JSON text that tells apart what JSON.stringify writes alike (null, NaN and ±Infinity are all
 * `null`): equal texts mean equal values, so a kept message never turns one into another.
 */
function exactText(value: unknown): string {
  const text = JSON.stringify(value);
  return hasNonFinite(value) ? `${text}${JSON.stringify(findNonFinite(value))}` : text;
}

function prefixByText(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A recorder that passes what it receives to `sink` until it is sealed (its attempt abandoned). */
export function sealableRecorder(sink: RolloutRecorder): AttemptRecorder {
  let sealed = false;
  return {
    get sealed() {
      return sealed;
    },
    seal: () => {
      sealed = true;
    },
    modelCall: (call) => {
      if (!sealed) sink.modelCall(call);
    },
    event: (type, data, at) => {
      if (!sealed) sink.event(type, data, at);
    },
  };
}

/** Encodes each call against the previous one of the same recorder. */
function callEncoder(): (call: ModelCall) => EncodedCall {
  let previous: ModelCall | null = null;
  let previousWireMessages: string[] = [];
  let previousWireTools: string | null = null;
  return (call) => {
    const messages = call.request.messages;
    const keep = previous ? prefixByReference(previous.request.messages, messages) : 0;
    const sameTools = previous !== null && previous.request.tools === call.request.tools;
    const body = wireBody(call.wire?.request);
    const wireMessages = body && Array.isArray(body.messages) ? body.messages : null;
    const wireTexts = wireMessages ? wireMessages.map(exactText) : [];
    const wireKeep = wireMessages ? prefixByText(previousWireMessages, wireTexts) : null;
    const wireTools = body && body.tools !== undefined ? exactText(body.tools) : null;
    const sameWireTools = wireTools !== null && wireTools === previousWireTools;
    // Keys stay where they are (placeholders), so the rebuilt records keep their field order.
    const wire =
      call.wire && body
        ? { ...call.wire, request: { ...body, ...(wireMessages && wireKeep !== null ? { messages: wireMessages.slice(wireKeep) } : {}), ...(sameWireTools ? { tools: null } : {}) } }
        : call.wire;
    const stripped = { ...call, request: { ...call.request, messages: messages.slice(keep), ...(sameTools ? { tools: [] } : {}) }, ...(wire ? { wire } : {}) };
    previous = call;
    previousWireMessages = wireTexts;
    previousWireTools = wireTools;
    // A ModelCall is JSON by construction (it is what the store serialises).
    return { call: stripped as unknown as Record<string, unknown>, keep, wireKeep, sameTools, sameWireTools };
  };
}

/**
 * A `RolloutStore` that keeps everything in memory for one rollout. Each `recorder()` call opens
 * a session, replayed later through its own store recorder, so event sequence numbers come out as
 * the in-process runner's do. The attempt number, and what the attempts before it spent, are the
 * coordinator's: it knows what is stored.
 */
export class RolloutBuffer implements RolloutStore {
  private readonly sessions: RecorderSession[] = [];
  private readonly firstAttempt: number;
  private readonly earlier: AttemptsSpend | undefined;
  private readonly identity: Pick<AttemptIdentity, 'runId' | 'rolloutId'>;

  constructor(options: { runId: AttemptIdentity['runId']; rolloutId: AttemptIdentity['rolloutId']; firstAttempt: number; earlier?: AttemptsSpend }) {
    this.firstAttempt = options.firstAttempt;
    this.earlier = options.earlier;
    this.identity = { runId: options.runId, rolloutId: options.rolloutId };
  }

  nextAttempt(rolloutId: string): number {
    if (rolloutId !== this.identity.rolloutId) throw new Error(`rollout buffer for ${this.identity.rolloutId} asked about ${rolloutId}`);
    return this.firstAttempt;
  }

  /** The coordinator's store holds the earlier attempts; the job said what they spent. */
  attemptsSpend(rolloutId: string, beforeAttempt: number): AttemptsSpend {
    return spendBefore({ rolloutId: this.identity.rolloutId, firstAttempt: this.firstAttempt, earlier: this.earlier }, rolloutId, beforeAttempt);
  }

  recorder(identity: AttemptIdentity): AttemptRecorder {
    if (identity.runId !== this.identity.runId || identity.rolloutId !== this.identity.rolloutId) {
      throw new Error(`rollout buffer for ${this.identity.rolloutId} asked to record ${identity.rolloutId}`);
    }
    const entries: RecordedEntry[] = [];
    this.sessions.push({ attempt: identity.attempt, entries });
    const encode = callEncoder();
    return sealableRecorder({
      modelCall: (call) => entries.push({ kind: 'call', encoded: encode(call) }),
      event: (type, data) => entries.push({ kind: 'event', type, data, at: new Date().toISOString() }),
    });
  }

  /** The job's result: the rollout and every non-empty session, in the order they were opened. */
  result(rollout: Rollout): RolloutResult {
    return { rollout, sessions: this.sessions.filter((s) => s.entries.length > 0) };
  }
}

/**
 * The result job's payload: the result's JSON, with its non-finite numbers (a −∞ logprob, a
 * 1e999 a model wrote in its arguments), which JSON writes as null, listed beside it under the
 * store's `$nonFinite` key, so the coordinator restores them (`decodeResult`). A result without
 * one (nearly all) is written exactly as before.
 */
export function resultPayload(result: RolloutResult): string {
  if (!hasNonFinite(result)) return JSON.stringify(result);
  return JSON.stringify({ ...result, [NON_FINITE_KEY]: findNonFinite(result) });
}
