import type { ModelCall } from '../../core/index.ts';
import { classifyDrift } from './drift.ts';
import type { AssembleResult, CallSpan, DriftCause, DriftRecord, Segment, SegmentStart, SkipReason, TokenDecoder, Trajectory } from './types.ts';

export function policyVersionOf(call: ModelCall): string | null {
  return call.policyVersion ?? call.request.policyVersion ?? null;
}

/** Not the policy's own output: a judge grading it, a model playing the user. */
const NOT_POLICY = new Set<ModelCall['purpose']>(['judge', 'user']);

/** Calls that are training data, in order: the policy's own calls, with a response to learn from. */
export function trainingCalls(calls: readonly ModelCall[]): ModelCall[] {
  return calls.filter((c) => !NOT_POLICY.has(c.purpose) && c.response !== null).sort((a, b) => a.index - b.index);
}

/** Each training call's nearest ancestor that is training data too (a failed call in between produced nothing). */
export function trainingParents(calls: readonly ModelCall[]): Map<string, ModelCall | null> {
  const byId = new Map(calls.map((c) => [c.id, c]));
  const usable = new Set(trainingCalls(calls).map((c) => c.id));
  const parents = new Map<string, ModelCall | null>();
  for (const call of calls) {
    if (!usable.has(call.id)) continue;
    let id = call.parentId;
    const seen = new Set<string>();
    while (id && !usable.has(id) && !seen.has(id)) {
      seen.add(id);
      id = byId.get(id)?.parentId ?? null;
    }
    parents.set(call.id, id && usable.has(id) ? (byId.get(id) ?? null) : null);
  }
  return parents;
}

interface CallTokens {
  promptIds: readonly number[];
  completionIds: readonly number[];
  logprobs: readonly number[] | null;
}

type TokensOrProblem = { ok: true; tokens: CallTokens } | { ok: false; reason: SkipReason; detail: string };

/** The lowest logprob a sampled token can have: ln of the smallest double (≈ −744.44). */
const MIN_LOGPROB = Math.log(Number.MIN_VALUE);

/** The engine's ids for one call. Ids from a local tokenizer are never training data. */
export function engineTokens(call: ModelCall): TokensOrProblem {
  const trace = call.response?.tokens;
  const where = `call ${call.index} (${call.id})`;
  if (!trace) return { ok: false, reason: 'no_engine_tokens', detail: `${where} has no token ids` };
  if (trace.source !== 'engine') return { ok: false, reason: 'no_engine_tokens', detail: `${where} has ids from a local tokenizer, not the engine` };
  const { promptIds, completionIds, completionLogprobs } = trace;
  if (!promptIds || !completionIds) return { ok: false, reason: 'no_engine_tokens', detail: `${where}: the engine reported no ${promptIds ? 'completion' : 'prompt'} ids` };
  if (promptIds.length === 0) return { ok: false, reason: 'invalid_tokens', detail: `${where}: empty prompt ids` };
  if (promptIds.some((id) => id < 0) || completionIds.some((id) => id < 0)) return { ok: false, reason: 'invalid_tokens', detail: `${where}: negative token id` };
  if (completionLogprobs) {
    if (completionLogprobs.length !== completionIds.length) {
      return { ok: false, reason: 'invalid_tokens', detail: `${where}: ${completionLogprobs.length} logprobs for ${completionIds.length} completion ids` };
    }
    // Below ln of the smallest double no probability exists: such a value stands in for −∞ (vLLM
    // writes −9999) and would make every importance ratio against it overflow in the trainer.
    const bad = completionLogprobs.findIndex((lp) => !Number.isFinite(lp) || lp > 0 || lp < MIN_LOGPROB);
    if (bad >= 0) {
      return { ok: false, reason: 'invalid_tokens', detail: `${where}: logprob ${completionLogprobs[bad]} at completion token ${bad} (expected a finite value ≤ 0 and ≥ ${MIN_LOGPROB.toFixed(2)}, ln of the smallest double)` };
    }
  }
  return { ok: true, tokens: { promptIds, completionIds, logprobs: completionLogprobs ?? null } };
}

function isPrefix(prefix: readonly number[], of: readonly number[]): boolean {
  if (prefix.length > of.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false;
  return true;
}

/** Appends without spreading (a spread of 100k+ ids overflows the call stack). */
function appendFrom<T>(target: T[], source: readonly T[], from = 0): void {
  for (let i = from; i < source.length; i++) target.push(source[i] as T);
}

function appendFill<T>(target: T[], value: T, count: number): void {
  for (let i = 0; i < count; i++) target.push(value);
}

export interface AssembleOptions {
  /** Decodes ids to text, to tell a template re-render from a tokenizer mismatch. */
  decode?: TokenDecoder;
}

/**
 * Merges a rollout's calls into token segments. A call joins the segment that ends with its
 * parent when its prompt ids extend that segment exactly; otherwise it starts a new segment and
 * the break is recorded with its cause. Summaries, sub-agents and fresh contexts start their own
 * segment (`context_reset`). Returns a skip instead when any training call lacks engine ids.
 */
export function assembleTrajectory(calls: readonly ModelCall[], options: AssembleOptions = {}): AssembleResult {
  const training = trainingCalls(calls);
  if (training.length === 0) {
    return { ok: false, reason: 'no_training_calls', detail: 'no policy call with a response (judge and simulated-user calls are not training data)' };
  }
  const tokens = new Map<string, CallTokens>();
  const missing: string[] = [];
  for (const call of training) {
    const found = engineTokens(call);
    if (found.ok) tokens.set(call.id, found.tokens);
    else if (found.reason === 'no_engine_tokens') missing.push(found.detail);
    else return found;
  }
  if (missing.length > 0) {
    return { ok: false, reason: 'no_engine_tokens', detail: `${missing.length} of ${training.length} calls lack engine token ids; first: ${missing[0]}` };
  }
  return { ok: true, trajectory: new Assembler({ calls, training, tokens, decode: options.decode }).run() };
}

class Assembler {
  private readonly segments: Segment[] = [];
  private readonly drift: DriftRecord[] = [];
  /** Where each merged call sits. */
  private readonly home = new Map<string, { segment: number; span: number }>();
  /** Calls that end their segment, so a child may extend it in place. */
  private readonly tips = new Set<string>();
  private readonly parents: Map<string, ModelCall | null>;
  private readonly training: ModelCall[];
  private readonly tokens: Map<string, CallTokens>;
  private readonly decode: TokenDecoder | undefined;
  private hintMismatches = 0;

  constructor(input: { calls: readonly ModelCall[]; training: ModelCall[]; tokens: Map<string, CallTokens>; decode: TokenDecoder | undefined }) {
    this.parents = trainingParents(input.calls);
    this.training = input.training;
    this.tokens = input.tokens;
    this.decode = input.decode;
  }

  run(): Trajectory {
    let perCallTokens = 0;
    for (const call of this.training) {
      const t = this.tokens.get(call.id) as CallTokens;
      perCallTokens += t.promptIds.length + t.completionIds.length;
      this.place(call, t);
    }
    return { segments: this.segments, drift: this.drift, perCallTokens, hintMismatches: this.hintMismatches };
  }

  private place(call: ModelCall, t: CallTokens): void {
    if (this.segments.length === 0) return this.open(call, t, 'first');
    const parent = this.parents.get(call.id) ?? null;
    const at = parent ? this.home.get(parent.id) : undefined;
    if (call.purpose === 'summary' || !parent || !at || parent.purpose !== call.purpose) {
      const detail =
        call.purpose === 'summary'
          ? 'a summary call starts its own context'
          : !parent || !at
            ? 'a fresh context (no earlier parent call)'
            : `a ${call.purpose} call under a ${parent.purpose} call starts its own context`;
      this.record(call, { cause: 'context_reset', position: 0, messageIndex: null, detail });
      return this.open(call, t, 'context_reset');
    }
    const segment = this.segments[at.segment] as Segment;
    const span = segment.spans[at.span] as CallSpan;
    const continued = this.tips.has(parent.id) ? segment.tokenIds : segment.tokenIds.slice(0, span.end);
    const extends_ = isPrefix(continued, t.promptIds);
    const hint = call.extendsParent;
    if (hint !== undefined && hint !== extends_) this.hintMismatches++;
    if (extends_ && this.tips.has(parent.id)) return this.extend(at.segment, call, t, parent);
    if (extends_) return this.open(call, t, 'branch');
    const finding = classifyDrift({ parent, call, sequence: continued, promptIds: t.promptIds, parentCompletionStart: span.completionStart, decode: this.decode });
    this.record(call, finding);
    this.open(call, t, finding.cause);
  }

  private record(call: ModelCall, finding: { cause: DriftCause; position: number; messageIndex: number | null; detail: string }): void {
    const turn = 1 + call.request.messages.filter((m) => m.role === 'assistant').length;
    this.drift.push({ callIndex: call.index, modelCallId: call.id, turn, ...finding });
  }

  private spanOf(call: ModelCall, start: number, completionStart: number, end: number): CallSpan {
    return {
      modelCallId: call.id,
      callIndex: call.index,
      start,
      completionStart,
      end,
      policyVersion: policyVersionOf(call),
      temperature: call.request.sampling.temperature ?? null,
      finishReason: call.response?.finishReason ?? 'other',
    };
  }

  private open(call: ModelCall, t: CallTokens, startedBy: SegmentStart): void {
    const tokenIds: number[] = [];
    appendFrom(tokenIds, t.promptIds);
    appendFrom(tokenIds, t.completionIds);
    const lossMask: (0 | 1)[] = [];
    appendFill<0 | 1>(lossMask, 0, t.promptIds.length);
    appendFill<0 | 1>(lossMask, 1, t.completionIds.length);
    let logprobs: number[] | null = null;
    if (t.logprobs) {
      logprobs = [];
      appendFill(logprobs, 0, t.promptIds.length);
      appendFrom(logprobs, t.logprobs);
    }
    const segment: Segment = { index: this.segments.length, tokenIds, lossMask, logprobs, spans: [this.spanOf(call, 0, t.promptIds.length, tokenIds.length)], startedBy };
    this.segments.push(segment);
    this.home.set(call.id, { segment: segment.index, span: 0 });
    this.tips.add(call.id);
  }

  private extend(index: number, call: ModelCall, t: CallTokens, parent: ModelCall): void {
    const segment = this.segments[index] as Segment;
    const start = segment.tokenIds.length;
    const tail = t.promptIds.length - start;
    appendFrom(segment.tokenIds, t.promptIds, start);
    appendFrom(segment.tokenIds, t.completionIds);
    appendFill<0 | 1>(segment.lossMask, 0, tail);
    appendFill<0 | 1>(segment.lossMask, 1, t.completionIds.length);
    if (segment.logprobs && t.logprobs) {
      appendFill(segment.logprobs, 0, tail);
      appendFrom(segment.logprobs, t.logprobs);
    } else segment.logprobs = null;
    segment.spans.push(this.spanOf(call, start, t.promptIds.length, segment.tokenIds.length));
    this.home.set(call.id, { segment: index, span: segment.spans.length - 1 });
    this.tips.delete(parent.id);
    this.tips.add(call.id);
  }
}
