// Talking to models: `--model` specs, HTTP adapters (OpenAI-compatible, Anthropic), policies that
// need no server (scripted, oracle, random, placeholder, noop, destructive) and a mock server.
export { MODEL_SPEC_FORMS, parseModelSpec, createModelClient, type ModelSpec, type CreateModelOptions } from './spec.ts';
export { createOpenAIChat, MINIMAX_BASE_URL, type OpenAIChatOptions } from './openai-chat.ts';
export { buildChatBody, toOpenAIMessages, withoutOpenAIReasoning, type OpenAIFlavor } from './openai-wire.ts';
export { parseChatCompletion, parseOpenAIMessage, parseArguments, type ParsedOpenAIMessage } from './openai-parse.ts';
export {
  createAnthropicMessages,
  buildMessagesBody,
  toAnthropicMessages,
  parseMessagesResponse,
  ANTHROPIC_VERSION,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  type AnthropicMessagesOptions,
} from './anthropic.ts';
export { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, RETRY_AFTER_CAP_MS, STREAM_RECORD_KEY, type Sleep, type ParseOutcome } from './http.ts';
export { checkBaseUrl, isScrubbed, MIN_SECRET_LENGTH, rejectCredentials, redactUrl, scrub, scrubResult, type BaseUrlCheck } from './secrets.ts';
export { splitInlineThink, type InlineThinkSplit } from './think.ts';
export {
  Script,
  ScriptTurn,
  ScriptToolCall,
  ScriptFault,
  ReasoningStyle,
  loadScript,
  parseScriptText,
  remainingTurns,
  turnIndex,
  type ScriptInput,
} from './script.ts';
export { createScriptedModel } from './scripted.ts';
export {
  createOraclePolicy,
  createRandomPolicy,
  createPlaceholderPolicy,
  createNoopPolicy,
  createDestructivePolicy,
  type RandomPolicyOptions,
} from './policies.ts';
export { randomValue, placeholderValue, randomArguments, placeholderArguments } from './schema-values.ts';
export { startMockModelServer, type MockModelServer, type MockModelServerOptions } from './mock-server.ts';
export { createTextCompletionModel, parseCompletionResponse, type TextCompletionOptions } from './text-completion.ts';
