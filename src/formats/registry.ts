import { InputError, type AssistantMessage } from '../core/index.ts';
import { deepseekV31 } from './deepseek-v31.ts';
import { glm } from './glm.ts';
import { harmony } from './harmony.ts';
import { hermes } from './hermes.ts';
import { kimiK2 } from './kimi-k2.ts';
import { minimaxXml } from './minimax-xml.ts';
import { openaiJson } from './openai-json.ts';
import { qwen3Coder } from './qwen3-coder.ts';
import { THINK_OPEN } from './think.ts';
import { FORMAT_NAMES, type AssistantTurn, type FormatName, type ParseOptions, type ParsedCompletion, type RenderOptions, type StreamParser, type ToolCallFormat } from './types.ts';

export const FORMATS: Readonly<Record<FormatName, ToolCallFormat>> = {
  'minimax-xml': minimaxXml,
  hermes,
  'openai-json': openaiJson,
  'qwen3-coder': qwen3Coder,
  'glm-4.5': glm,
  'kimi-k2': kimiK2,
  'deepseek-v3.1': deepseekV31,
  harmony,
};

export function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

/** The format called `name`; an InputError naming the choices otherwise. */
export function getFormat(name: string, where = 'format'): ToolCallFormat {
  if (!isFormatName(name)) throw new InputError(where, `unknown tool-call format "${name}"`, `one of ${FORMAT_NAMES.join('|')}`);
  return FORMATS[name];
}

function resolve(format: FormatName | ToolCallFormat): ToolCallFormat {
  return typeof format === 'string' ? getFormat(format) : format;
}

export function parseCompletion(format: FormatName | ToolCallFormat, text: string, options?: ParseOptions): ParsedCompletion {
  return resolve(format).parse(text, options);
}

export function renderCompletion(format: FormatName | ToolCallFormat, turn: AssistantTurn, options?: RenderOptions): string {
  return resolve(format).render(turn, options);
}

export function createStreamParser(format: FormatName | ToolCallFormat, options?: ParseOptions): StreamParser {
  return resolve(format).createStreamParser(options);
}

/** The turn a neutral assistant message describes (unparseable calls keep no arguments: `{}`). */
export function turnFromMessage(message: AssistantMessage): AssistantTurn {
  return {
    reasoning: message.reasoning && !message.reasoningDropped ? message.reasoning.text : null,
    content: message.content,
    toolCalls: message.toolCalls.map((call) => ({ name: call.name, arguments: call.arguments ?? {} })),
  };
}

/**
 * Whether a rendered prompt leaves a reasoning block open for the model (MiniMax-M2 always;
 * Qwen3-2507 thinking models), as llama.cpp checks: then a completion starts inside `<think>`.
 * `thinkOptionsForPrompt` also tells a prompt that switched thinking off.
 */
export function promptOpensThinking(prompt: string): boolean {
  return prompt.trimEnd().endsWith(THINK_OPEN);
}
