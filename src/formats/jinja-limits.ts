// The bounds on one chat-template render. A template from a model repository runs on the runner's
// main thread, and a loop over range(10**8), nested loops or a string doubled forty times would
// hang or exhaust the process, so every render gets a budget of evaluation steps (deterministic:
// the same template and input pass or fail alike on a busy machine), a nesting depth and a size
// cap on strings and lists.

/** Steps (node evaluations) one render may take: a 100-turn conversation takes well under 1%. */
export const MAX_RENDER_STEPS = 20_000_000;
/** How deeply evaluation may nest (macros calling macros): far above any real template, below V8's stack. */
export const MAX_RENDER_DEPTH = 400;
/** The longest string a render may build: 32 Mi characters, some 8M tokens. */
export const MAX_RENDER_CHARS = 32 * 1024 * 1024;
/** The most items a list in a render (range() included) may hold. */
export const MAX_RENDER_ITEMS = 1_000_000;
/**
 * A wall-clock backstop for steps that each do much work (a test over a 30 MB string in a long
 * loop); real templates finish in milliseconds, a 1,000-turn gpt-oss conversation in about a second.
 */
export const MAX_RENDER_MS = 30_000;

export interface RenderLimits {
  maxSteps: number;
  maxDepth: number;
  maxChars: number;
  maxItems: number;
  maxMs: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { maxSteps: MAX_RENDER_STEPS, maxDepth: MAX_RENDER_DEPTH, maxChars: MAX_RENDER_CHARS, maxItems: MAX_RENDER_ITEMS, maxMs: MAX_RENDER_MS };

/** A render stopped by a limit: the template, not the conversation, is at fault. */
export class RenderLimitError extends Error {}

/** The error for a string of `length` characters where at most `maxChars` may be built. */
export function tooLong(length: number, maxChars: number): RenderLimitError {
  return new RenderLimitError(`the template built a string of ${length.toLocaleString('en')} characters (at most ${maxChars.toLocaleString('en')})`);
}

/** The error for a list of `count` items where at most `maxItems` may be built. */
export function tooMany(count: number, maxItems: number): RenderLimitError {
  return new RenderLimitError(`the template built a list of ${count.toLocaleString('en')} items (at most ${maxItems.toLocaleString('en')})`);
}
