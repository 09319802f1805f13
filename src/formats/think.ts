import type { ParseOptions, ThinkStart } from './types.ts';

// Where reasoning starts is a fact about the prompt, not the completion: the engines are told
// (vLLM's `chat_template_kwargs.enable_thinking`, its check of whether the prompt already ended the
// reasoning) rather than guessing from the text. So every parser takes it as an option, and the
// text-completion client reads it off the prompt it rendered.

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

/** The parse options' answer, else the format's own default. `thinking: false` wins over everything. */
export function resolveThinkStart(options: ParseOptions, fallback: ThinkStart): ThinkStart {
  if (options.thinking === false) return 'off';
  const opens = options.promptOpensThink ?? options.thinkingOpen;
  if (opens === undefined) return fallback;
  return opens ? 'prompt' : 'model';
}

/**
 * The think options a rendered prompt implies, as llama.cpp and vLLM read them: a prompt ending in
 * `<think>` opened the block (MiniMax-M2, Qwen3 thinking, DeepSeek-V3.1 `thinking=true`); one ending
 * in `</think>` closed it unanswered, which is how templates switch thinking off (Qwen3's
 * `<think>\n\n</think>\n\n`, GLM's `<think></think>`, DeepSeek-V3.1's default).
 */
export function thinkOptionsForPrompt(prompt: string): Pick<ParseOptions, 'promptOpensThink' | 'thinking'> {
  const end = prompt.trimEnd();
  if (end.endsWith(THINK_OPEN)) return { promptOpensThink: true };
  if (end.endsWith(THINK_CLOSE)) return { thinking: false };
  return { promptOpensThink: false };
}
