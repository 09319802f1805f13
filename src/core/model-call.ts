import { z } from 'zod';
import { FailureKind } from './errors.ts';
import { ModelCallId, RolloutId, RunId } from './ids.ts';
import { JsonObject, JsonValue } from './json.ts';
import { AssistantMessage, Message } from './messages.ts';
import { ToolSpec } from './tools.ts';
import { SCHEMA_VERSION } from './version.ts';

export const SamplingParams = z.object({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  topK: z.number().int().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).optional(),
  /** Provider-specific body fields passed through as-is (e.g. `chat_template_kwargs`, `reasoning_split`). */
  extra: JsonObject.optional(),
});
export type SamplingParams = z.infer<typeof SamplingParams>;

/** A provider-neutral request: what the scaffold asked for. The wire body is stored beside it. */
export const ModelRequest = z.object({
  messages: z.array(Message),
  tools: z.array(ToolSpec).default([]),
  toolChoice: z.enum(['auto', 'none', 'required']).optional(),
  sampling: SamplingParams.default({}),
  /** The policy (checkpoint) version that served this call, for off-policy accounting. */
  policyVersion: z.string().optional(),
});
export type ModelRequest = z.infer<typeof ModelRequest>;

export const FinishReason = z.enum(['stop', 'tool_calls', 'length', 'content_filter', 'error', 'other']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Usage = z.object({
  promptTokens: z.number().int().nonnegative().optional(),
  completionTokens: z.number().int().nonnegative().optional(),
  reasoningTokens: z.number().int().nonnegative().optional(),
  cachedPromptTokens: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof Usage>;

/**
 * Token ids the inference engine reported for this call. The engine is the source of truth;
 * `source: 'tokenizer'` marks ids computed locally (tests, counting), never used for training.
 */
export const TokenTrace = z.object({
  source: z.enum(['engine', 'tokenizer']),
  promptIds: z.array(z.number().int()).optional(),
  completionIds: z.array(z.number().int()).optional(),
  completionLogprobs: z.array(z.number()).optional(),
});
export type TokenTrace = z.infer<typeof TokenTrace>;

export const ModelResponse = z.object({
  message: AssistantMessage,
  finishReason: FinishReason,
  usage: Usage.default({}),
  /** The model name the server reported, and its response id. */
  model: z.string().optional(),
  responseId: z.string().optional(),
  tokens: TokenTrace.optional(),
});
export type ModelResponse = z.infer<typeof ModelResponse>;

/** The HTTP exchange exactly as it happened (headers with secrets are never recorded). */
export const WireExchange = z.object({
  url: z.string(),
  request: JsonValue,
  status: z.number().int().optional(),
  /** Parsed JSON body, or the raw text when it was not JSON. */
  response: JsonValue.optional(),
});
export type WireExchange = z.infer<typeof WireExchange>;

export const ModelCallPurpose = z.enum(['turn', 'summary', 'subagent', 'judge', 'user']);
export type ModelCallPurpose = z.infer<typeof ModelCallPurpose>;

/**
 * The primary record: one model call, the context it saw and what it produced. A rollout is a
 * tree of these: `parentId` is the call whose context this one continues (null for a root: the
 * first turn, a judge); a summary call branches off the turn it condenses, and the turn after a
 * summary continues from the summary. `extendsParent` says whether this prompt is exactly the
 * parent's prompt plus the parent's output plus new messages — what a trainer needs to merge turns.
 */
export const ModelCall = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: ModelCallId,
  runId: RunId,
  rolloutId: RolloutId,
  attempt: z.number().int().positive(),
  index: z.number().int().nonnegative(),
  parentId: ModelCallId.nullable(),
  /** The prompt is the parent's prompt + the parent's response, unchanged, + new messages (false for roots). */
  extendsParent: z.boolean().optional(),
  purpose: ModelCallPurpose,
  model: z.string(),
  /** The policy (checkpoint) version that produced the response: from the run config, else what the engine reported. */
  policyVersion: z.string().optional(),
  request: ModelRequest,
  response: ModelResponse.nullable(),
  wire: WireExchange.optional(),
  error: z.object({ kind: FailureKind, message: z.string(), detail: JsonObject.optional() }).optional(),
  startedAt: z.string(),
  latencyMs: z.number().nonnegative(),
});
export type ModelCall = z.infer<typeof ModelCall>;
