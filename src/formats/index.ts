// Chat templates and tool-call text formats: render messages + tools into a model's exact prompt
// (as Hugging Face does) and read completions back (as vLLM / SGLang do).
export {
  FORMAT_NAMES,
  type AssistantTurn,
  type FormatError,
  type FormatErrorKind,
  type FormatName,
  type ParseOptions,
  type ParseTool,
  type ParsedCompletion,
  type ParsedToolCall,
  type RenderOptions,
  type StreamEvent,
  type StreamParser,
  type ThinkStart,
  type ToolCallFormat,
} from './types.ts';
export { resolveThinkStart, thinkOptionsForPrompt } from './think.ts';
export {
  ChatMessage,
  ChatTool,
  ChatToolCall,
  parseChatMessages,
  parseChatTools,
  parsedTooDeep,
  rawCompletionText,
  toChatMessages,
  toChatTools,
  TOO_DEEP,
  type ToChatOptions,
} from './chat.ts';
export {
  createChatTemplate,
  loadChatTemplate,
  specialTokensOf,
  type ChatTemplate,
  type ChatTemplateOptions,
  type LoadChatTemplateOptions,
  type RenderInput,
  type RenderResult,
  type SpecialTokens,
} from './template.ts';
export { coerceParameter, schemaTypes } from './coerce.ts';
export { pythonJson } from './json-style.ts';
export { renderHermes } from './hermes.ts';
export { renderMiniMax } from './minimax-xml.ts';
export { renderQwen3Coder } from './qwen3-coder.ts';
export { renderGlm } from './glm.ts';
export { renderKimiK2 } from './kimi-k2.ts';
export { renderDeepSeekV31 } from './deepseek-v31.ts';
export { renderHarmony } from './harmony.ts';
export { fromOpenAIAssistantMessage, toOpenAIAssistantMessage, type OpenAIAssistantMessage } from './openai-json.ts';
export {
  FORMATS,
  createStreamParser,
  getFormat,
  isFormatName,
  parseCompletion,
  promptOpensThinking,
  renderCompletion,
  turnFromMessage,
} from './registry.ts';
export { TokenizerInputError, createTokenizer, isTokenPrefix, loadQwen3Tokenizer, loadTokenizer, loadTokenizerFile, loneSurrogateIndex, type LoadedTokenizer, type Tokenizer } from './tokenizer.ts';
export { decodeUtf8, readTextFile, withoutBom, MAX_MODEL_FILE_BYTES } from './model-files.ts';
