import type { JsonObject, ToolSpec } from '../core/index.ts';
import type { ChatTool } from './chat.ts';

export const FORMAT_NAMES = ['minimax-xml', 'hermes', 'openai-json', 'qwen3-coder', 'glm-4.5', 'kimi-k2', 'deepseek-v3.1', 'harmony'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/**
 * Where a completion's reasoning starts. `prompt`: the generation prompt ended inside an open
 * `<think>` (MiniMax-M2, Qwen3 thinking models), so the completion starts as reasoning. `model`: the
 * model opens its own `<think>` if it reasons at all. `off`: thinking was switched off
 * (`enable_thinking=false`, DeepSeek's `thinking=false`): there is no reasoning, only content.
 */
export type ThinkStart = 'prompt' | 'model' | 'off';

/** An assistant turn as a format writes it: what `render` takes and `parse` gives back. */
export interface AssistantTurn {
  /** `null`/absent: no reasoning block at all; `''`: an empty one. */
  reasoning?: string | null;
  content: string;
  toolCalls: { name: string; arguments: JsonObject }[];
}

/** One call read back from completion text. */
export interface ParsedToolCall {
  /** `''` when the model wrote a call whose name could not be read (an error says so). */
  name: string;
  /** `null` when the arguments could not be parsed at all (an error with this call's index says why). */
  arguments: JsonObject | null;
  /** The arguments as OpenAI's `function.arguments` JSON string; the raw text the model wrote when unparseable. */
  argumentsText: string;
  /** The call id the model wrote itself, for formats that have one (Kimi-K2's `functions.get_weather:0`). */
  id?: string;
}

export type FormatErrorKind =
  | 'unknown_tool'
  | 'bad_json'
  | 'unclosed_block'
  | 'coercion'
  | 'malformed_call'
  | 'stray_text';

/** Something suspicious in a completion. Reported beside the result, never thrown, never dropped. */
export interface FormatError {
  kind: FormatErrorKind;
  message: string;
  /** Index into `toolCalls` of the call this is about, when it is about one. */
  callIndex?: number;
}

export interface ParsedCompletion {
  /** `null` when the completion had no reasoning block. */
  reasoning: string | null;
  content: string;
  toolCalls: ParsedToolCall[];
  errors: FormatError[];
}

/** Tools whose schemas drive type coercion and the unknown-tool check: neutral specs or OpenAI tools. */
export type ParseTool = ToolSpec | ChatTool;

export interface ParseOptions {
  tools?: readonly ParseTool[];
  /**
   * The generation prompt ended inside an open `<think>` (see `thinkOptionsForPrompt`). True: text up
   * to `</think>` (or to a first tool-call block) is reasoning, and a completion with neither is all
   * reasoning. False: only a `<think>` the model writes at the start opens reasoning, and a stray
   * `</think>` is content. Left out: what the format's model's template does by default
   * (`ToolCallFormat.thinkStart`). Formats whose reasoning is not `<think>` text ignore it.
   */
  promptOpensThink?: boolean;
  /** False: thinking was switched off (`enable_thinking=false`): no reasoning is read, all text is content. */
  thinking?: boolean;
  /** @deprecated The former name of `promptOpensThink`; used only when that is left out. */
  thinkingOpen?: boolean;
}

export interface RenderOptions {
  /** Leave out the opening `<think>` because the generation prompt wrote it. Defaults per format. */
  thinkOpenedByPrompt?: boolean;
}

/** What a stream parser reports as soon as it is certain of it; `finish()` gives the whole result. */
export type StreamEvent =
  | { type: 'reasoning'; text: string }
  | { type: 'content'; text: string }
  | { type: 'tool_call'; index: number; call: ParsedToolCall }
  | { type: 'error'; error: FormatError };

/**
 * Parses a completion as it streams in. Chunks may split anywhere (inside tags too); the result
 * of `finish()` equals parsing the whole text at once. Events are early notices, raw deltas
 * (`finish()` trims the content and the newlines around the reasoning); only text that may be the
 * start of a tag is held back until the next chunk decides it. A call is reported once its block
 * has ended (a hermes block that turns out not to be JSON becomes content then).
 */
export interface StreamParser {
  push(chunk: string): StreamEvent[];
  finish(): ParsedCompletion;
}

export interface ToolCallFormat {
  readonly name: FormatName;
  /** Where reasoning starts when the parse options do not say: what this model's published template does by default. */
  readonly thinkStart: ThinkStart;
  /** The completion text a model trained on this format writes for `turn` (after the generation prompt). */
  render(turn: AssistantTurn, options?: RenderOptions): string;
  parse(text: string, options?: ParseOptions): ParsedCompletion;
  createStreamParser(options?: ParseOptions): StreamParser;
}
