import { readJsonObject } from './chat.ts';
import { quoteText, toolSchemas } from './coerce.ts';
import { partialTagSuffix, trimNewlines } from './scanner.ts';
import type { AssistantTurn, FormatError, ParseOptions, ParsedCompletion, ParsedToolCall, StreamEvent, StreamParser, ToolCallFormat } from './types.ts';

// gpt-oss's Harmony format, read as vLLM's `openai` tool parser and gpt-oss reasoning parser read it
// (through openai_harmony): a completion is a run of messages after the prompt's `<|start|>assistant`,
//   <|channel|>analysis<|message|>reasoning<|end|>
//   <|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"k":"v"}<|call|>
//   <|start|>assistant<|channel|>final<|message|>answer<|return|>
// `analysis` is reasoning, `final` is content, a `commentary` message to `functions.<name>` is a call
// and one to no one is a preamble (content). The recipient may also come before the channel, as
// the chat template writes calls back into the prompt. Reasoning is a channel here, so the think
// options do not apply.

const START = '<|start|>';
const MESSAGE = '<|message|>';
const TERMINATORS = ['<|end|>', '<|call|>', '<|return|>'] as const;
const TOKENS = [START, MESSAGE, '<|channel|>', '<|constrain|>', ...TERMINATORS];
const TOKEN = /<\|(?:start|end|message|channel|constrain|call|return)\|>/g;
const FUNCTIONS = 'functions.';

export function renderHarmony(turn: AssistantTurn): string {
  const messages: string[] = [];
  if (turn.reasoning !== undefined && turn.reasoning !== null) messages.push(`<|channel|>analysis${MESSAGE}${turn.reasoning}<|end|>`);
  if (turn.toolCalls.length === 0) {
    messages.push(`<|channel|>final${MESSAGE}${turn.content}<|return|>`);
  } else {
    if (turn.content) messages.push(`<|channel|>commentary${MESSAGE}${turn.content}<|end|>`);
    for (const call of turn.toolCalls) {
      messages.push(`<|channel|>commentary to=${FUNCTIONS}${call.name} <|constrain|>json${MESSAGE}${JSON.stringify(call.arguments)}<|call|>`);
    }
  }
  return messages.join(`${START}assistant`);
}

/** What a message's header says: `<|start|>assistant to=functions.f<|channel|>commentary json`. */
interface Header {
  role: string | undefined;
  channel: string | undefined;
  recipient: string | undefined;
}

function readHeader(text: string): Header {
  const role = /^\s*<\|start\|>\s*([^\s<]+)/.exec(text)?.[1];
  const channel = /<\|channel\|>\s*([^\s<]+)/.exec(text)?.[1];
  const recipient = /(?:^|\s|>)to=([^\s<]+)/.exec(text)?.[1];
  return { role, channel, recipient };
}

type Mode = 'header' | 'body';

function createHarmonyParser(options: ParseOptions = {}): StreamParser {
  const schemas = options.tools ? toolSchemas(options.tools) : undefined;
  let mode: Mode = 'header';
  let buf = '';
  let header = '';
  let current: Header = { role: undefined, channel: undefined, recipient: undefined };
  let body = '';
  let messages = 0;
  const reasoning: string[] = [];
  const content: string[] = [];
  const calls: ParsedToolCall[] = [];
  const errors: FormatError[] = [];
  let result: ParsedCompletion | undefined;

  const addError = (error: FormatError, events: StreamEvent[]): void => {
    errors.push(error);
    events.push({ type: 'error', error });
  };
  /** Where the current message's body goes as it streams; calls and unreadable messages wait for their end. */
  const sink = (): 'reasoning' | 'content' | 'hold' => {
    if (current.role !== undefined && current.role !== 'assistant') return 'hold';
    if (current.channel === 'analysis') return 'reasoning';
    if ((current.channel === 'final' || current.channel === 'commentary') && current.recipient === undefined) return 'content';
    return 'hold';
  };
  const appendBody = (text: string, events: StreamEvent[]): void => {
    if (!text) return;
    body += text;
    const to = sink();
    if (to === 'reasoning') {
      reasoning[reasoning.length - 1] += text;
      events.push({ type: 'reasoning', text });
    } else if (to === 'content') {
      content[content.length - 1] += text;
      events.push({ type: 'content', text });
    }
  };
  const openMessage = (events: StreamEvent[]): void => {
    messages += 1;
    current = readHeader(header);
    header = '';
    body = '';
    const to = sink();
    if (to === 'reasoning') reasoning.push('');
    if (to === 'content') content.push('');
    if (to === 'hold' && current.recipient === undefined) {
      const what = current.role !== undefined && current.role !== 'assistant' ? `a message from "${current.role}"` : `channel "${current.channel ?? ''}"`;
      addError({ kind: 'stray_text', message: `message ${messages}: ${what} is not one the assistant writes; its text is ignored` }, events);
    }
    mode = 'body';
  };
  const closeMessage = (terminated: boolean, events: StreamEvent[]): void => {
    const where = `message ${messages}`;
    if (!terminated) addError({ kind: 'unclosed_block', message: `${where} is not ended by ${TERMINATORS.join(', ')} before the completion ends` }, events);
    if (sink() === 'hold' && current.recipient !== undefined) readCall(where, events);
    mode = 'header';
  };
  const readCall = (where: string, events: StreamEvent[]): void => {
    const recipient = current.recipient as string;
    const index = calls.length;
    if (!recipient.startsWith(FUNCTIONS)) {
      addError({ kind: 'malformed_call', message: `${where}: addressed to the built-in tool "${recipient}", not to a function; ignored` }, events);
      return;
    }
    const name = recipient.slice(FUNCTIONS.length);
    const text = body.trim();
    const read = text === '' ? { value: {} } : readJsonObject(text);
    const args = 'value' in read ? read.value : null;
    const call: ParsedToolCall = { name, arguments: args, argumentsText: args === null ? text : JSON.stringify(args) };
    calls.push(call);
    events.push({ type: 'tool_call', index, call });
    if ('problem' in read) addError({ kind: 'bad_json', message: `tool call ${index} (${where}, to=${recipient}): the arguments are not a JSON object (${read.problem}): ${quoteText(text)}`, callIndex: index }, events);
    if (current.channel !== 'commentary') addError({ kind: 'malformed_call', message: `tool call ${index} (${where}): sent on channel "${current.channel ?? ''}" (expected commentary)`, callIndex: index }, events);
    if (schemas && name !== '' && !schemas.has(name)) addError({ kind: 'unknown_tool', message: `tool call ${index}: no tool named "${name}" was offered`, callIndex: index }, events);
  };

  const consume = (final: boolean, events: StreamEvent[]): void => {
    while (true) {
      TOKEN.lastIndex = 0;
      const match = TOKEN.exec(buf);
      if (!match) break;
      const before = buf.slice(0, match.index);
      const token = match[0];
      buf = buf.slice(match.index + token.length);
      if (mode === 'header') {
        if (token === START) {
          if ((header + before).trim()) addError({ kind: 'stray_text', message: `text between messages ignored: ${quoteText(header + before)}` }, events);
          header = START;
        } else if (token === MESSAGE) {
          header += before;
          openMessage(events);
        } else if ((TERMINATORS as readonly string[]).includes(token)) {
          addError({ kind: 'malformed_call', message: `a message header ends in ${token} with no ${MESSAGE}; ignored: ${quoteText(header + before)}` }, events);
          header = '';
        } else {
          header += before + token;
        }
      } else if ((TERMINATORS as readonly string[]).includes(token) || token === START) {
        appendBody(before, events);
        closeMessage(token !== START, events);
        if (token === START) header = START;
      } else {
        appendBody(before + token, events);
      }
    }
    // Text that may be the start of a special token waits for the next chunk.
    const keep = final ? 0 : Math.max(...TOKENS.map((token) => partialTagSuffix(buf, token)));
    const ready = buf.slice(0, buf.length - keep);
    buf = buf.slice(buf.length - keep);
    if (mode === 'header') header += ready;
    else appendBody(ready, events);
  };

  return {
    push(chunk) {
      if (result) throw new Error('stream parser: push() after finish()');
      const events: StreamEvent[] = [];
      buf += chunk;
      consume(false, events);
      return events;
    },
    finish() {
      if (result) return result;
      const events: StreamEvent[] = [];
      consume(true, events);
      if (mode === 'body') closeMessage(false, events);
      else if (header.trim()) {
        // No harmony framing at all (or a header cut off): keep the text rather than lose it.
        content.push(header);
        addError({ kind: 'stray_text', message: `text outside any harmony message kept as content: ${quoteText(header)}` }, events);
      }
      result = {
        reasoning: reasoning.length === 0 ? null : trimNewlines(reasoning.join('\n\n')),
        content: content.join('\n\n').trim(),
        toolCalls: calls,
        errors,
      };
      return result;
    },
  };
}

export const harmony: ToolCallFormat = {
  name: 'harmony',
  thinkStart: 'model',
  render: renderHarmony,
  parse(text, options) {
    const parser = createHarmonyParser(options);
    parser.push(text);
    return parser.finish();
  },
  createStreamParser: createHarmonyParser,
};
