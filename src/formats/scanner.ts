import { toolSchemas, type ToolSchemas } from './coerce.ts';
import type { FormatError, FormatName, ParseOptions, ParsedCompletion, ParsedToolCall, StreamEvent, StreamParser, ToolCallFormat } from './types.ts';

// One incremental scanner serves every tag-based format, and whole-text parsing is this scanner
// fed a single chunk: so streaming and whole-text results agree by construction, whatever the
// chunk boundaries. Every decision waits until the text that decides it has arrived (a tag that
// might be starting at the end of the buffer is held back), so no decision depends on where a
// chunk ended.

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

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
}

/** A format whose tool calls sit in `open … close` blocks after optional `<think>` reasoning. */
export interface BlockSyntax {
  open: string;
  close: string;
  parseBlock(body: string, context: BlockContext): BlockResult;
}

type Mode = 'lead' | 'undecided' | 'reasoning' | 'body' | 'block' | 'done';

export function createTagStreamParser(syntax: BlockSyntax, options: ParseOptions = {}): StreamParser {
  const schemas = options.tools ? toolSchemas(options.tools) : undefined;
  let mode: Mode = 'lead';
  let buf = '';
  let searchFrom = 0;
  let reasoning: string | null = null;
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

  const handleBlock = (body: string, closed: boolean, events: StreamEvent[]): void => {
    blocks += 1;
    const firstIndex = calls.length;
    const parsed = syntax.parseBlock(body, { closed, block: blocks, firstIndex, schemas });
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
          reasoning = '';
          mode = 'reasoning';
          return true;
        }
        if (!final && THINK_OPEN.startsWith(trimmed)) return false;
        if (options.thinkingOpen) {
          reasoning = '';
          mode = 'reasoning';
        } else {
          mode = 'undecided';
        }
        return true;
      }
      case 'undecided': {
        // No leading <think>: a later lone </think> means the prompt opened the block.
        const at = buf.indexOf(THINK_CLOSE, searchFrom);
        if (at >= 0) {
          addReasoning(buf.slice(0, at), events);
          buf = buf.slice(at + THINK_CLOSE.length);
          searchFrom = 0;
          mode = 'body';
          return true;
        }
        if (final) {
          searchFrom = 0;
          mode = 'body';
          return true;
        }
        searchFrom = Math.max(0, buf.length - THINK_CLOSE.length + 1);
        return false;
      }
      case 'reasoning': {
        const at = buf.indexOf(THINK_CLOSE);
        if (at >= 0) {
          addReasoning(buf.slice(0, at), events);
          buf = buf.slice(at + THINK_CLOSE.length);
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
        const keep = partialTagSuffix(buf, THINK_CLOSE);
        addReasoning(buf.slice(0, buf.length - keep), events);
        buf = buf.slice(buf.length - keep);
        return false;
      }
      case 'body': {
        const at = buf.indexOf(syntax.open);
        if (at >= 0) {
          addContent(buf.slice(0, at), events);
          buf = buf.slice(at + syntax.open.length);
          searchFrom = 0;
          mode = 'block';
          return true;
        }
        if (final) {
          addContent(buf, events);
          buf = '';
          mode = 'done';
          return false;
        }
        const keep = partialTagSuffix(buf, syntax.open);
        addContent(buf.slice(0, buf.length - keep), events);
        buf = buf.slice(buf.length - keep);
        return false;
      }
      case 'block': {
        const at = buf.indexOf(syntax.close, searchFrom);
        if (at >= 0) {
          handleBlock(buf.slice(0, at), true, events);
          buf = buf.slice(at + syntax.close.length);
          searchFrom = 0;
          mode = 'body';
          return true;
        }
        if (final) {
          handleBlock(buf, false, events);
          buf = '';
          mode = 'done';
          return false;
        }
        searchFrom = Math.max(0, buf.length - syntax.close.length + 1);
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

/** Length of the longest proper prefix of `tag` that `text` ends with: text that may be a tag starting. */
/** A tag-delimited tool-call format: whole-text parsing is the stream parser fed one chunk, so the two always agree. */
export function tagFormat(name: FormatName, render: ToolCallFormat['render'], syntax: BlockSyntax): ToolCallFormat {
  return {
    name,
    render,
    parse(text, options) {
      const parser = createTagStreamParser(syntax, options);
      parser.push(text);
      return parser.finish();
    },
    createStreamParser: (options) => createTagStreamParser(syntax, options),
  };
}

export function partialTagSuffix(text: string, tag: string): number {
  for (let k = Math.min(tag.length - 1, text.length); k > 0; k--) {
    if (text.endsWith(tag.slice(0, k))) return k;
  }
  return 0;
}

/** Templates strip the newlines around reasoning (`<think>\n…\n</think>`) when they re-render it. */
export function trimNewlines(text: string): string {
  return text.replace(/^\n+/, '').replace(/\n+$/, '');
}
