import { createStreamParser, parseCompletion, pythonJson, type ChatTool } from '../../formats/index.ts';
import type { Generation } from './generate.ts';

// From output text to the message fields, as vLLM's qwen3 reasoning parser and hermes tool parser
// fill them (through the formats module's hermes parser), and the same split per token for
// streams. Like vLLM's hermes parser, a completion with any tool call that cannot be read keeps no
// tool calls at all and its text stays content.

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

export interface OutputToolCall {
  id: string;
  name: string;
  /** JSON as vLLM writes it (`json.dumps(arguments, ensure_ascii=False)`). */
  arguments: string;
}

export interface OutputMessage {
  reasoning: string | null;
  content: string | null;
  toolCalls: OutputToolCall[];
}

export interface ReadOptions {
  tools: readonly ChatTool[];
  /** False for `tool_choice: "none"` or a request without tools: vLLM then runs no tool parser. */
  parseTools: boolean;
  /** The id of the call at `index`. */
  callId: (index: number) => string;
}

export interface ReadResult {
  message: OutputMessage;
  /** How the text was split: `tools` through the tool parser, `text` reasoning and content only. */
  mode: 'tools' | 'text';
}

export function readOutput(text: string, options: ReadOptions): ReadResult {
  if (options.parseTools) {
    const parsed = parseCompletion('hermes', text, { tools: options.tools });
    if (parsed.toolCalls.every((call) => call.arguments !== null && call.name !== '')) {
      return {
        mode: 'tools',
        message: {
          reasoning: parsed.reasoning || null,
          content: parsed.content || null,
          toolCalls: parsed.toolCalls.map((call, i) => ({ id: options.callId(i), name: call.name, arguments: pythonJson(call.arguments ?? {}) })),
        },
      };
    }
  }
  const split = splitReasoning(text);
  const reasoning = split.reasoning ? trimNewlines(text.slice(split.reasoning[0], split.reasoning[1])) : '';
  const content = text.slice(split.bodyStart).trim();
  return { mode: 'text', message: { reasoning: reasoning || null, content: content || null, toolCalls: [] } };
}

/** Where the reasoning sits: after a leading `<think>`, or before a lone `</think>` (the prompt opened the block). */
function splitReasoning(text: string): { reasoning: [number, number] | null; bodyStart: number } {
  const lead = text.length - text.trimStart().length;
  if (text.startsWith(THINK_OPEN, lead)) {
    const start = lead + THINK_OPEN.length;
    const close = text.indexOf(THINK_CLOSE, start);
    return close < 0 ? { reasoning: [start, text.length], bodyStart: text.length } : { reasoning: [start, close], bodyStart: close + THINK_CLOSE.length };
  }
  const close = text.indexOf(THINK_CLOSE);
  return close < 0 ? { reasoning: null, bodyStart: 0 } : { reasoning: [0, close], bodyStart: close + THINK_CLOSE.length };
}

function trimNewlines(text: string): string {
  return text.replace(/^\n+/, '').replace(/\n+$/, '');
}

export interface StreamDelta {
  reasoning?: string;
  content?: string;
  toolCalls?: (OutputToolCall & { index: number })[];
}

/**
 * The message split into one delta per generated id. Every delta is a slice of the final field
 * values, revealed as the raw text that decides it arrives, so a client that concatenates the
 * deltas gets exactly the non-streamed message.
 */
export function streamDeltas(generation: Generation, read: ReadResult, tools: readonly ChatTool[]): StreamDelta[] {
  const { message } = read;
  const reasoning = reveal(message.reasoning ?? '', /^\n+/, /\n+$/);
  const content = reveal(message.content ?? '', /^\s+/, /\s+$/);
  const sent = new Set<number>();
  const deltas: StreamDelta[] = [];
  const add = (delta: StreamDelta, field: 'reasoning' | 'content', text: string): void => {
    if (text) delta[field] = (delta[field] ?? '') + text;
  };
  const addCall = (delta: StreamDelta, index: number): void => {
    const call = message.toolCalls[index];
    if (!call || sent.has(index)) return;
    sent.add(index);
    (delta.toolCalls ??= []).push({ index, ...call });
  };

  if (read.mode === 'tools') {
    const parser = createStreamParser('hermes', { tools });
    // Without any think tag the parser would hold all text back until the end, waiting for a
    // `</think>` that cannot come; an empty block tells it there is no reasoning.
    if (!generation.text.includes(THINK_OPEN) && !generation.text.includes(THINK_CLOSE)) parser.push(`${THINK_OPEN}${THINK_CLOSE}`);
    for (const piece of generation.pieces) {
      const delta: StreamDelta = {};
      for (const event of piece ? parser.push(piece) : []) {
        if (event.type === 'reasoning') add(delta, 'reasoning', reasoning.push(event.text));
        else if (event.type === 'content') add(delta, 'content', content.push(event.text));
        else if (event.type === 'tool_call') addCall(delta, event.index);
      }
      deltas.push(delta);
    }
  } else {
    const split = splitReasoning(generation.text);
    let at = 0;
    for (const piece of generation.pieces) {
      const delta: StreamDelta = {};
      const end = at + piece.length;
      if (split.reasoning) add(delta, 'reasoning', reasoning.push(generation.text.slice(Math.max(at, split.reasoning[0]), Math.max(Math.min(end, split.reasoning[1]), split.reasoning[0]))));
      add(delta, 'content', content.push(generation.text.slice(Math.max(at, split.bodyStart), Math.max(end, split.bodyStart))));
      deltas.push(delta);
      at = end;
    }
  }
  // Whatever was held back to the end (trailing whitespace, a half-seen tag, an unclosed block).
  const last = deltas[deltas.length - 1] ?? (deltas[0] = {});
  add(last, 'reasoning', reasoning.rest());
  add(last, 'content', content.rest());
  message.toolCalls.forEach((_call, index) => addCall(last, index));
  return deltas;
}

/**
 * Reveals `final` (the trimmed field value) as raw text arrives: the raw text seen so far, trimmed
 * at the start and with trailing whitespace held back, is always a prefix of `final`.
 */
function reveal(final: string, lead: RegExp, trail: RegExp): { push(raw: string): string; rest(): string } {
  let raw = '';
  let shown = 0;
  return {
    push(text) {
      raw += text;
      const visible = raw.replace(lead, '').replace(trail, '').length;
      if (visible <= shown) return '';
      const out = final.slice(shown, visible);
      shown = Math.max(shown, Math.min(visible, final.length));
      return out;
    },
    rest() {
      const out = final.slice(shown);
      shown = final.length;
      return out;
    },
  };
}
