// One rollout's calls as the gateway records them: indices in arrival order, each call's parent
// the call that arrived before it, `extendsParent` from what the request actually holds, and a
// full ModelCall written to the rollout's recorder when the call ends.
import type { AttemptIdentity, Message, ModelCall, ModelCallId, ModelRequest, ModelResult, RolloutRecorder, RolloutStats } from '../../core/index.ts';
import { errorMessage } from '../../core/index.ts';
import { modelCallRecord } from '../../agent/index.ts';
import { extendsMessages, MessageCache } from './neutral.ts';

/** Where a rollout's calls go: the rollout's identity, its recorder, and the policy version to stamp. */
export interface GatewayRoute {
  identity: AttemptIdentity;
  recorder: RolloutRecorder;
  /** Recorded on every call; a function is read as each call arrives (trainers that announce versions mid-rollout). */
  policyVersion?: string | (() => string | undefined);
}

/** What a call's prompt was, for the next call's `extendsParent`: messages, or a raw completions prompt. */
export type PromptOf = { kind: 'messages' } | { kind: 'text'; prompt: string | number[] };

interface Settled {
  messages: readonly Message[];
  answer: Message;
  /** Raw completions: the prompt and what the engine returned. */
  text?: { prompt: string | number[]; completion: string; ids: number[] | null };
}

/** A call between its arrival and its end. */
export interface CallSlot {
  readonly index: number;
  /** Set when the call is recorded (the record makes the id); a child that ends first makes it itself. */
  id: ModelCallId | null;
  readonly startedAt: number;
  readonly request: ModelRequest;
  readonly prompt: PromptOf;
  /** The call that arrived before this one, and whether it had ended by then (only then can this one continue it). */
  parent: { slot: CallSlot; endedBefore: boolean } | null;
  settled: Settled | null;
  ended: boolean;
}

/** How a rollout's calls went, for the rollout row a run-mode gateway commits. */
export interface TrackSummary {
  stats: RolloutStats;
  startedAt: number | null;
  models: string[];
  /** The last call to end: its failure, or how its answer finished. */
  last: { ok: true; finishReason: string } | { ok: false; kind: string; message: string } | null;
}

export class RolloutTrack {
  readonly cache = new MessageCache();
  private nextIndex = 0;
  private last: CallSlot | null = null;
  private readonly open = new Set<Promise<void>>();
  private readonly summary: TrackSummary = {
    stats: { turns: 0, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    startedAt: null,
    models: [],
    last: null,
  };
  /** Recorder failures (a full disk): counted and reported, never thrown into a client's answer. */
  recordFailures: string[] = [];

  constructor(
    readonly route: GatewayRoute,
    private readonly idFor: (index: number) => ModelCallId,
  ) {}

  policyVersion(): string | undefined {
    const source = this.route.policyVersion;
    return typeof source === 'function' ? source() : source;
  }

  /** Registers an arriving call: its index and parent are fixed now, in arrival order. */
  begin(input: { request: ModelRequest; prompt: PromptOf; startedAt: number }): CallSlot {
    const index = this.nextIndex++;
    const parent = this.last ? { slot: this.last, endedBefore: this.last.ended } : null;
    const slot: CallSlot = { index, id: null, startedAt: input.startedAt, request: input.request, prompt: input.prompt, parent, settled: null, ended: false };
    this.last = slot;
    this.summary.startedAt ??= input.startedAt;
    return slot;
  }

  /** Ends a call: writes its record (after the client has its answer, so recording adds no latency). */
  finish(slot: CallSlot, outcome: { result: ModelResult; model: string; endedAt: number }): ModelCall {
    const { result } = outcome;
    slot.ended = true;
    if (result.ok) slot.settled = settle(slot, result.response.message, result.response.tokens?.completionIds ?? null);
    const policyVersion = slot.request.policyVersion;
    const call = modelCallRecord({
      identity: this.route.identity,
      index: slot.index,
      parentId: slot.parent ? (slot.parent.slot.id ?? this.idFor(slot.parent.slot.index)) : null,
      extendsParent: this.extendsParent(slot),
      purpose: 'turn',
      model: outcome.model,
      ...(policyVersion ? { policyVersion } : {}),
      request: slot.request,
      result,
      startedAt: slot.startedAt,
      endedAt: outcome.endedAt,
    });
    slot.id = call.id;
    // Only the next call needs this one's parent; dropping the link keeps a long rollout from holding every call.
    slot.parent = null;
    this.count(result, outcome.model);
    try {
      this.route.recorder.modelCall(call);
    } catch (error) {
      this.recordFailures.push(`call ${call.index}: ${errorMessage(error)}`);
    }
    return call;
  }

  /** Resolves once every call in flight has ended (and been recorded). */
  async settled(): Promise<void> {
    await Promise.all([...this.open]);
  }

  /** Keeps `work` (one exchange) in the set `settled` waits for. */
  hold<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.open.add(settled);
    void settled.then(() => this.open.delete(settled));
    return work;
  }

  get inFlight(): number {
    return this.open.size;
  }

  report(): TrackSummary {
    return { ...this.summary, stats: { ...this.summary.stats }, models: [...this.summary.models] };
  }

  private extendsParent(slot: CallSlot): boolean {
    const parent = slot.parent;
    if (!parent || !parent.endedBefore || !parent.slot.settled) return false;
    const settled = parent.slot.settled;
    if (slot.prompt.kind === 'messages') return settled.text === undefined && extendsMessages(slot.request.messages, settled);
    return settled.text !== undefined && extendsText(slot.prompt.prompt, settled.text);
  }

  private count(result: ModelResult, model: string): void {
    const stats = this.summary.stats;
    stats.modelCalls++;
    stats.turns++;
    if (!this.summary.models.includes(model)) this.summary.models.push(model);
    if (result.ok) {
      stats.toolCalls += result.response.message.toolCalls.length;
      stats.promptTokens += result.response.usage.promptTokens ?? 0;
      stats.completionTokens += result.response.usage.completionTokens ?? 0;
      this.summary.last = { ok: true, finishReason: result.response.finishReason };
    } else {
      this.summary.last = { ok: false, kind: result.kind, message: result.message };
    }
  }
}

function settle(slot: CallSlot, answer: Message, ids: number[] | null): Settled {
  if (slot.prompt.kind === 'messages') return { messages: slot.request.messages, answer };
  return { messages: [], answer, text: { prompt: slot.prompt.prompt, completion: answer.role === 'assistant' ? answer.content : '', ids } };
}

/** A raw prompt continues its parent when it starts with the parent's prompt and completion (as text, or as ids). */
function extendsText(prompt: string | number[], parent: NonNullable<Settled['text']>): boolean {
  if (typeof prompt === 'string') return typeof parent.prompt === 'string' && prompt.startsWith(parent.prompt + parent.completion);
  if (typeof parent.prompt === 'string' || parent.ids === null) return false;
  const prefix = [...parent.prompt, ...parent.ids];
  return prefix.length <= prompt.length && prefix.every((id, i) => prompt[i] === id);
}
