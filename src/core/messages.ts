import { z } from 'zod';
import { JsonObject, JsonValue } from './json.ts';

/**
 * A tool call as the model produced it. `id` is the provider's own call id (kept as received);
 * `argumentsText` is the exact text the model wrote, `arguments` its parse (null when unparseable,
 * with `parseError` saying why). Malformed calls are data to score, not exceptions.
 */
export const ToolCall = z.object({
  id: z.string(),
  name: z.string(),
  arguments: JsonObject.nullable(),
  argumentsText: z.string(),
  parseError: z.string().optional(),
});
export type ToolCall = z.infer<typeof ToolCall>;

/** Where a turn's reasoning came from; decides how an adapter sends it back. */
export const ReasoningSource = z.enum([
  'reasoning_field', // message.reasoning (vLLM, OpenRouter)
  'reasoning_content_field', // message.reasoning_content (SGLang, older vLLM, MiniMax split)
  'reasoning_details', // MiniMax reasoning_split / OpenRouter reasoning_details
  'inline_think', // <think>…</think> inside content
  'thinking_blocks', // Anthropic thinking / redacted_thinking blocks
  'text_format', // parsed from raw completion text by a chat format
]);
export type ReasoningSource = z.infer<typeof ReasoningSource>;

/** Reasoning text plus whatever opaque provider data must travel with it, verbatim. */
export const Reasoning = z.object({
  text: z.string(),
  source: ReasoningSource,
  /** Anthropic thinking signature(s), in block order. */
  signatures: z.array(z.string()).optional(),
  /** Opaque provider data (MiniMax `reasoning_details`, Anthropic `redacted_thinking` data). */
  details: JsonValue.optional(),
});
export type Reasoning = z.infer<typeof Reasoning>;

/** The provider's own message exactly as it arrived; adapters resend this, never a rebuild. */
export const ProviderMessage = z.object({
  api: z.enum(['openai-chat', 'anthropic-messages', 'text-completion', 'in-process']),
  message: JsonValue,
});
export type ProviderMessage = z.infer<typeof ProviderMessage>;

export const SystemMessage = z.object({ role: z.literal('system'), content: z.string() });
export const UserMessage = z.object({ role: z.literal('user'), content: z.string() });
export const AssistantMessage = z.object({
  role: z.literal('assistant'),
  /** Visible text with reasoning removed. */
  content: z.string(),
  reasoning: Reasoning.optional(),
  toolCalls: z.array(ToolCall).default([]),
  provider: ProviderMessage.optional(),
  /** Set by scaffolds that strip earlier reasoning (ablations); adapters then omit it on resend. */
  reasoningDropped: z.boolean().optional(),
});
export const ToolMessage = z.object({
  role: z.literal('tool'),
  toolCallId: z.string(),
  name: z.string(),
  content: z.string(),
  isError: z.boolean().default(false),
});

export const Message = z.discriminatedUnion('role', [SystemMessage, UserMessage, AssistantMessage, ToolMessage]);
export type Message = z.infer<typeof Message>;
export type SystemMessage = z.infer<typeof SystemMessage>;
export type UserMessage = z.infer<typeof UserMessage>;
export type AssistantMessage = z.infer<typeof AssistantMessage>;
export type ToolMessage = z.infer<typeof ToolMessage>;

/** The same message with its reasoning marked for omission (drop-thinking ablations). */
export function withoutReasoning(message: AssistantMessage): AssistantMessage {
  if (!message.reasoning && !message.provider) return message;
  return { ...message, reasoningDropped: true };
}
