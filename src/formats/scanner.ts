import { toolSchemas, type ToolSchemas } from './coerce.ts';
import { THINK_CLOSE, THINK_OPEN, resolveThinkStart } from './think.ts';
import type { FormatError, FormatName, ParseOptions, ParsedCompletion, ParsedToolCall, StreamEvent, StreamParser, ThinkStart, ToolCallFormat } from './types.ts';

// One incremental scanner serves every tag-based format, and whole-text parsing is this scanner
// fed a single chunk: so streaming and whole-text results agree by construction, whatever the
// chunk boundaries. Every decision waits until the text that decides it has arrived (a tag that
// might be starting at the end of the buffer is held back), so no decision depends on where a
// chunk ended.
//
// Reasoning follows vLLM's unified parsers (vllm/frontend/processing/parser/qwen3.py,
// minimax_m2.py): when the prompt opened `<think>`, everything up to `</think>` is reasoning, a
// tool-call block before any `</think>` ends the reasoning, and a `</think>` after the reasoning
// ended is dropped; with thinking off there is only content.

export { THINK_CLOSE, THINK_OPEN } from './think.ts';

export interface BlockContext {
  /** False for a block cut off by the end of the completion. */
  closed: boolean;
  /** 1-based number of this block in the completion, for messages. */
  block: number;
  /** The index the block's first call will get in `toolCalls`. */
  firstIndex: number;
  schemas: ToolSchemas | undefined;
}

export interface BlockResult {
  calls: ParsedToolCall[];
  errors: FormatError[];
  /** Text that stays in the content where the block was: a block the engines would not read as a call. */
  content?: string;
}

/** A format whose tool calls sit in `open … close` blocks after optional `<think>` reasoning. */
export interface BlockSyntax {
  open: string;
  close: string;
  parseBlock(body: string, context: BlockContext): BlockResult;
}

type Mode = 'lead' | 'reasoning' | 'body' | 'block' | 'done';

interface TagScanOptions extends ParseOptions {
  defaultThinkStart: ThinkStart;
}

function createTagStreamParser(syntax: BlockSyntax, options: TagScanOptions): StreamParser {
  const schemas = options.tools ? toolSchemas(options.tools) : undefined;
  const start = resolveThinkStart(options, options.defaultThinkStart);
  let mode: Mode = start === 'off' ? 'body' : 'lead';
  let buf = '';
  // Text already decided while its decision waits: the leading whitespace before a possible
  // `<think>`, and a block's body before its close. Kept apart from `buf`, which is searched on
  // every push, so a long stretch of either costs its length once, not once per chunk.
  let lead: string[] = [];
  let blockParts: string[] = [];
  const { findInReasoning, findInBody, findInBodyAfterReasoning } = tagFinders(syntax);
  let reasoning: string | null = null;
  let reasoningEnded = false;
  let content = '';
  let blocks = 0;
  const calls: ParsedToolCall[] = [];
  const errors: FormatError[] = [];
  let result: ParsedCompletion | undefined;

  const addReasoning = (text: string, events: StreamEvent[]): void => {
    reasoning = (reasoning ?? '') + text;
    if (text) events.push({ type: 'reasoning', text });
  };
  const addContent = (text: string, events: StreamEvent[]): void => {
    content += text;
    if (text) events.push({ type: 'content', text });
  };
  const addError = (error: FormatError, events: StreamEvent[]): void => {
    errors.push(error);
    events.push({ type: 'error', error });
  };
  const endReasoning = (text: string, events: StreamEvent[]): void => {
    addReasoning(text, events);
    reasoningEnded = true;
  };

  const handleBlock = (body: string, closed: boolean, events: StreamEvent[]): void => {
    blocks += 1;
    const firstIndex = calls.length;
    const parsed = syntax.parseBlock(body, { closed, block: blocks, firstIndex, schemas });
    if (parsed.content !== undefined) addContent(parsed.content, events);
    parsed.calls.forEach((call, i) => {
      calls.push(call);
      events.push({ type: 'tool_call', index: firstIndex + i, call });
    });
    for (const error of parsed.errors) addError(error, events);
    if (schemas) {
      parsed.calls.forEach((call, i) => {
        if (call.name !== '' && !schemas.has(call.name)) {
          addError({ kind: 'unknown_tool', message: `tool call ${firstIndex + i}: no tool named "${call.name}" was offered`, callIndex: firstIndex + i }, events);
        }
      });
    }
    if (!closed) {
      addError({ kind: 'unclosed_block', message: `${syntax.open} block ${blocks} is not closed by ${syntax.close} before the completion ends` }, events);
    }
  };

  /** Advances one decision; false when it must wait for more text (or everything is consumed). */
  const step = (final: boolean, events: StreamEvent[]): boolean => {
    switch (mode) {
      case 'lead': {
        const trimmed = buf.trimStart();
        if (trimmed.startsWith(THINK_OPEN)) {
          buf = trimmed.slice(THINK_OPEN.length);
          lead = [];
          reasoning = '';
          mode = 'reasoning';
          return true;
        }
        if (!final && trimmed === '') {
          lead.push(buf);
          buf = '';
          return false;
        }
        if (!final && THINK_OPEN.startsWith(trimmed)) return false;
        buf = lead.join('') + buf;
        lead = [];
        if (start === 'prompt') reasoning = '';
        mode = start === 'prompt' ? 'reasoning' : 'body';
        return true;
      }
      case 'reasoning': {
        const found = findInReasoning(buf);
        if (found?.tag === syntax.open) {
          // A tool call before </think> ends the reasoning (the engines read it as the call it is).
          endReasoning(buf.slice(0, found.at), events);
          buf = buf.slice(found.at + syntax.open.length);
          mode = 'block';
          return true;
        }
        if (found) {
          endReasoning(buf.slice(0, found.at), events);
          buf = buf.slice(found.at + THINK_CLOSE.length);
          mode = 'body';
          return true;
        }
        if (final) {
          addReasoning(buf, events);
          buf = '';
          addError({ kind: 'unclosed_block', message: `the reasoning block is not closed by ${THINK_CLOSE} before the completion ends` }, events);
          mode = 'done';
          return false;
        }
        const keep = Math.max(partialTagSuffix(buf, THINK_CLOSE), partialTagSuffix(buf, syntax.open));
        addReasoning(buf.slice(0, buf.length - keep), events);
        buf = buf.slice(buf.length - keep);
        return false;
      }
      case 'body': {
        const found = (reasoningEnded ? findInBodyAfterReasoning : findInBody)(buf);
        if (found?.tag === THINK_CLOSE) {
          addContent(buf.slice(0, found.at), events);
          buf = buf.slice(found.at + THINK_CLOSE.length);
          addError({ kind: 'stray_text', message: `a ${THINK_CLOSE} after the reasoning had ended was removed from the content` }, events);
          return true;
        }
        if (found) {
          addContent(buf.slice(0, found.at), events);
          buf = buf.slice(found.at + syntax.open.length);
          mode = 'block';
          return true;
        }
        if (final) {
          addContent(buf, events);
          buf = '';
          mode = 'done';
          return false;
        }
        const keep = Math.max(partialTagSuffix(buf, syntax.open), reasoningEnded ? partialTagSuffix(buf, THINK_CLOSE) : 0);
        addContent(buf.slice(0, buf.length - keep), events);
        buf = buf.slice(buf.length - keep);
        return false;
      }
      case 'block': {
        const at = buf.indexOf(syntax.close);
        if (at >= 0) {
          handleBlock(blockParts.join('') + buf.slice(0, at), true, events);
          blockParts = [];
          buf = buf.slice(at + syntax.close.length);
          mode = 'body';
          return true;
        }
        if (final) {
          handleBlock(blockParts.join('') + buf, false, events);
          blockParts = [];
          buf = '';
          mode = 'done';
          return false;
        }
        // Only what may be the close starting is searched again.
        const keep = partialTagSuffix(buf, syntax.close);
        blockParts.push(buf.slice(0, buf.length - keep));
        buf = buf.slice(buf.length - keep);
        return false;
      }
      case 'done':
        return false;
    }
  };

  return {
    push(chunk) {
      if (result) throw new Error('stream parser: push() after finish()');
      const events: StreamEvent[] = [];
      buf += chunk;
      while (step(false, events));
      return events;
    },
    finish() {
      if (result) return result;
      while (step(true, []));
      result = {
        reasoning: reasoning === null ? null : trimNewlines(reasoning),
        content: content.trim(),
        toolCalls: calls,
        errors,
      };
      return result;
    },
  };
}

export interface TagFormatSpec {
  name: FormatName;
  render: ToolCallFormat['render'];
  syntax: BlockSyntax;
  thinkStart: ThinkStart;
}

/** A tag-delimited tool-call format: whole-text parsing is the stream parser fed one chunk, so the two always agree. */
export function tagFormat(spec: TagFormatSpec): ToolCallFormat {
  const parser = (options: ParseOptions = {}): StreamParser => createTagStreamParser(spec.syntax, { ...options, defaultThinkStart: spec.thinkStart });
  return {
    name: spec.name,
    thinkStart: spec.thinkStart,
    render: spec.render,
    parse(text, options) {
      const whole = parser(options);
      whole.push(text);
      return whole.finish();
    },
    createStreamParser: parser,
  };
}

type TagFinder = (text: string) => { at: number; tag: string } | null;

interface TagFinders {
  findInReasoning: TagFinder;
  findInBody: TagFinder;
  findInBodyAfterReasoning: TagFinder;
}

const findersBySyntax = new WeakMap<BlockSyntax, TagFinders>();

/**
 * One search for whichever tag comes first, so text is scanned once however many tags it holds;
 * built once per format, not per parser (a whole-text parse makes a parser for every completion).
 */
function tagFinders(syntax: BlockSyntax): TagFinders {
  let finders = findersBySyntax.get(syntax);
  if (!finders) {
    finders = { findInReasoning: firstTag([THINK_CLOSE, syntax.open]), findInBody: firstTag([syntax.open]), findInBodyAfterReasoning: firstTag([syntax.open, THINK_CLOSE]) };
    findersBySyntax.set(syntax, finders);
  }
  return finders;
}

/** Finds the first occurrence of any of `tags` in one pass (indexOf per tag would rescan the text for each). */
function firstTag(tags: readonly string[]): TagFinder {
  // A single tag needs no alternation: indexOf is the fastest scan there is.
  if (tags.length === 1) {
    const [tag] = tags as [string];
    return (text) => {
      const at = text.indexOf(tag);
      return at < 0 ? null : { at, tag };
    };
  }
  const pattern = new RegExp(tags.map((tag) => tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => {
    pattern.lastIndex = 0;
    const match = pattern.exec(text);
    return match ? { at: match.index, tag: match[0] } : null;
  };
}

/** Length of the longest proper prefix of `tag` that `text` ends with: text that may be a tag starting. */
export function partialTagSuffix(text: string, tag: string): number {
  const first = tag[0];
  for (let i = Math.max(0, text.length - tag.length + 1); i < text.length; i++) {
    if (text[i] === first && tag.startsWith(text.slice(i))) return text.length - i;
  }
  return 0;
}

/** Templates strip the newlines around reasoning (`<think>\n…\n</think>`) when they re-render it. */
export function trimNewlines(text: string): string {
  return text.replace(/^\n+/, '').replace(/\n+$/, '');
}
