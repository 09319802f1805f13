import { markImmutable, type AssistantMessage, type JsonObject, type JsonValue, type Message, type ModelRequest, type ToolSpec } from '../core/index.ts';
import { isObject } from './http.ts';
import { splitInlineThink } from './think.ts';

export type OpenAIFlavor = 'generic' | 'minimax';

/** Fields that carry reasoning in an OpenAI-style assistant message (vLLM, SGLang, MiniMax, OpenRouter). */
const REASONING_KEYS = new Set(['reasoning_content', 'reasoning', 'reasoning_details']);

/**
 * Wire forms already built, by the (immutable) neutral object they were built from. Scaffolds
 * resend the same message objects and the same tool list every turn, so each is converted once per
 * rollout, and the store recognises the repeated prefix by reference instead of re-serialising
 * the whole conversation on every call. They are marked immutable, so their JSON text is computed
 * once too, for request bodies and stored records alike.
 */
const wireMessages = new WeakMap<Message, JsonObject>();
const wireTools = new WeakMap<readonly ToolSpec[], JsonValue[]>();

/** Neutral messages to `messages` for `/chat/completions`. */
export function toOpenAIMessages(messages: readonly Message[]): JsonObject[] {
  return messages.map((message): JsonObject => {
    const known = wireMessages.get(message);
    if (known) return known;
    const wire = markImmutable(messageToOpenAI(message));
    wireMessages.set(message, wire);
    return wire;
  });
}

function messageToOpenAI(message: Message): JsonObject {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return assistantToOpenAI(message);
  }
}

function toOpenAITools(tools: readonly ToolSpec[]): JsonValue[] {
  let wire = wireTools.get(tools);
  if (!wire) {
    wire = markImmutable(tools.map((tool): JsonValue => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } })));
    wireTools.set(tools, wire);
  }
  return wire;
}

/**
 * The provider's own message goes back exactly as received (same object, so the same keys in the
 * same order): interleaved-thinking models re-plan when their reasoning is rebuilt or lost.
 */
function assistantToOpenAI(message: AssistantMessage): JsonObject {
  const received = message.provider?.api === 'openai-chat' && isObject(message.provider.message) ? message.provider.message : undefined;
  if (received) return message.reasoningDropped ? withoutOpenAIReasoning(received) : received;
  const wire: JsonObject = { role: 'assistant', content: message.content };
  if (message.toolCalls.length > 0) {
    wire.tool_calls = message.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.argumentsText },
    }));
  }
  if (message.reasoning && !message.reasoningDropped) wire.reasoning_content = message.reasoning.text;
  return wire;
}

/** A copy with every reasoning field and any inline think block removed; other keys keep their order. */
export function withoutOpenAIReasoning(received: { [key: string]: JsonValue }): JsonObject {
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(received)) {
    if (REASONING_KEYS.has(key)) continue;
    copy[key] = key === 'content' && typeof value === 'string' ? splitInlineThink(value).visible : value;
  }
  return copy;
}

/** The full request body; `sampling.extra` goes last so users can set any engine field verbatim. */
export function buildChatBody(request: ModelRequest, options: { model: string; flavor: OpenAIFlavor; stream?: boolean }): JsonObject {
  const body: JsonObject = { model: options.model, messages: toOpenAIMessages(request.messages) };
  if (request.tools.length > 0) body.tools = toOpenAITools(request.tools);
  if (request.toolChoice) body.tool_choice = request.toolChoice;
  const { sampling } = request;
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  if (sampling.topK !== undefined) body.top_k = sampling.topK;
  if (sampling.seed !== undefined) body.seed = sampling.seed;
  if (sampling.stop !== undefined) body.stop = sampling.stop;
  if (sampling.maxTokens !== undefined) {
    // MiniMax deprecated max_tokens; vLLM/SGLang/llama.cpp all accept it.
    body[options.flavor === 'minimax' ? 'max_completion_tokens' : 'max_tokens'] = sampling.maxTokens;
  }
  // Keeps reasoning out of `content` so it comes back as reasoning_details we can resend.
  if (options.flavor === 'minimax') body.reasoning_split = true;
  if (options.stream) {
    body.stream = true;
    // Usage otherwise never arrives in a stream.
    body.stream_options = { include_usage: true };
  }
  if (sampling.extra) Object.assign(body, sampling.extra);
  return body;
}
