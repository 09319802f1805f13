import type { JsonObject, ToolSpec } from '../core/index.ts';
import type { ChatTool } from './chat.ts';

export const FORMAT_NAMES = ['minimax-xml', 'hermes', 'openai-json'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

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
   * The prompt already opened the reasoning block (it ends in `<think>`, as MiniMax-M2's always
   * does): everything up to `</think>` is reasoning, and a completion without one is unfinished
   * reasoning. Left out, a leading `<think>` or a lone `</think>` decides.
   */
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
 * (`finish()` trims the content and the newlines around the reasoning); text that could still
 * turn out to be reasoning (no `<think>` yet, no `</think>` seen) is held until it is decided,
 * which for a completion without reasoning is only at `finish()`.
 */
export interface StreamParser {
  push(chunk: string): StreamEvent[];
  finish(): ParsedCompletion;
}

export interface ToolCallFormat {
  readonly name: FormatName;
  /** The completion text a model trained on this format writes for `turn` (after the generation prompt). */
  render(turn: AssistantTurn, options?: RenderOptions): string;
  parse(text: string, options?: ParseOptions): ParsedCompletion;
  createStreamParser(options?: ParseOptions): StreamParser;
}
