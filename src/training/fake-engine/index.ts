// A loopback stand-in for vLLM's OpenAI server, for tests, demos and gateway benchmarks: real
// chat-template rendering and tokenization, vLLM's token-capture fields, answers from a script or
// a seeded policy. See docs/design/fake-engine.md.
export {
  startFakeEngine,
  loadShippedTemplate,
  loadShippedTokenizer,
  DEFAULT_FAKE_MODEL,
  DEFAULT_MAX_MODEL_LEN,
  type FakeEngine,
  type FakeEngineLatency,
  type FakeEngineOptions,
} from './server.ts';
export {
  scriptPolicy,
  toolWalkPolicy,
  type FakePolicy,
  type PolicyRequest,
  type PolicyResult,
  type PolicyToolCall,
  type PolicyTurn,
  type ScriptPolicy,
  type ToolChoice,
  type ToolWalkOptions,
} from './policy.ts';
export { assembleChatStream, type ChatMessage } from './stream-reader.ts';
export { createTokenCodec, loadEngineTokenizer, shippedQwen3Dir, type EngineTokenizer, type TokenCodec } from './tokens.ts';
