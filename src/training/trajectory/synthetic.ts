// Synthetic model calls with engine token ids, for tests and the prefix-merging bench. The ids
// are random (no tokenizer involved): what matters is how prompts extend one another.
import {
  modelCallIdFor,
  SCHEMA_VERSION,
  type AssistantMessage,
  type Message,
  type ModelCall,
  type ModelCallId,
  type ModelCallPurpose,
  type RolloutId,
  type Rng,
  type RunId,
} from '../../core/index.ts';

export interface CallSpec {
  runId: RunId;
  rolloutId: RolloutId;
  attempt?: number;
  index: number;
  parentId: ModelCallId | null;
  purpose?: ModelCallPurpose;
  messages: Message[];
  reply: AssistantMessage;
  promptIds: number[];
  completionIds: number[];
  /** Omit for calls whose engine returned no logprobs. */
  logprobs?: number[];
  /** `tokenizer` marks ids computed locally (never training data); `none` records no ids at all. */
  source?: 'engine' | 'tokenizer' | 'none';
  policyVersion?: string;
  temperature?: number;
  finishReason?: 'stop' | 'tool_calls' | 'length';
}

/** One ModelCall record exactly as the recorder stores it. */
export function syntheticCall(spec: CallSpec): ModelCall {
  const attempt = spec.attempt ?? 1;
  const source = spec.source ?? 'engine';
  return {
    schemaVersion: SCHEMA_VERSION,
    id: modelCallIdFor(spec.rolloutId, attempt, spec.index),
    runId: spec.runId,
    rolloutId: spec.rolloutId,
    attempt,
    index: spec.index,
    parentId: spec.parentId,
    purpose: spec.purpose ?? 'turn',
    model: 'synthetic',
    ...(spec.policyVersion === undefined ? {} : { policyVersion: spec.policyVersion }),
    request: {
      messages: spec.messages,
      tools: [],
      sampling: spec.temperature === undefined ? {} : { temperature: spec.temperature },
    },
    response: {
      message: spec.reply,
      finishReason: spec.finishReason ?? (spec.reply.toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      usage: { promptTokens: spec.promptIds.length, completionTokens: spec.completionIds.length },
      ...(source === 'none'
        ? {}
        : { tokens: { source, promptIds: spec.promptIds, completionIds: spec.completionIds, ...(spec.logprobs ? { completionLogprobs: spec.logprobs } : {}) } }),
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    latencyMs: 1,
  };
}

export function randomIds(rng: Rng, count: number): number[] {
  return Array.from({ length: count }, () => rng.int(10, 150_000));
}

/** Logprobs in (-4, 0], rounded so they survive any float encoding unchanged. */
export function randomLogprobs(rng: Rng, count: number): number[] {
  return Array.from({ length: count }, () => -Math.round(rng.next() * 4000) / 1000);
}

export interface ConversationSpec {
  runId: RunId;
  rolloutId: RolloutId;
  turns: number;
  rng: Rng;
  /** The first call's prompt ids; rollouts of one group share them. */
  firstPrompt: number[];
  completionTokens?: readonly [number, number];
  toolTokens?: readonly [number, number];
  policyVersion?: string;
  temperature?: number;
}

/**
 * A tool-using conversation of `turns` calls in which every prompt extends the previous prompt +
 * completion exactly (the token-in/token-out ideal): completion ids, then a tool result's ids.
 */
export function syntheticConversation(spec: ConversationSpec): ModelCall[] {
  const [cMin, cMax] = spec.completionTokens ?? [40, 400];
  const [tMin, tMax] = spec.toolTokens ?? [20, 600];
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful agent.' },
    { role: 'user', content: 'Fix the failing test.' },
  ];
  const calls: ModelCall[] = [];
  let prompt = [...spec.firstPrompt];
  for (let i = 0; i < spec.turns; i++) {
    const last = i === spec.turns - 1;
    const completionIds = randomIds(spec.rng, spec.rng.int(cMin, cMax + 1));
    const reply: AssistantMessage = {
      role: 'assistant',
      content: last ? 'Done.' : '',
      reasoning: { text: `thinking about step ${i}`, source: 'reasoning_field' },
      toolCalls: last ? [] : [{ id: `call_${i}`, name: 'run', arguments: { step: i }, argumentsText: `{"step":${i}}` }],
    };
    calls.push(
      syntheticCall({
        runId: spec.runId,
        rolloutId: spec.rolloutId,
        index: i,
        parentId: i === 0 ? null : (calls[i - 1] as ModelCall).id,
        messages: [...messages],
        reply,
        promptIds: prompt,
        completionIds,
        logprobs: randomLogprobs(spec.rng, completionIds.length),
        ...(spec.policyVersion === undefined ? {} : { policyVersion: spec.policyVersion }),
        ...(spec.temperature === undefined ? {} : { temperature: spec.temperature }),
      }),
    );
    messages.push(reply, { role: 'tool', toolCallId: `call_${i}`, name: 'run', content: `output ${i}`, isError: false });
    prompt = [...prompt, ...completionIds, ...randomIds(spec.rng, spec.rng.int(tMin, tMax + 1))];
  }
  return calls;
}
