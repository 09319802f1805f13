import { parseDelimitedCalls } from './delimited-calls.ts';
import { pythonJson } from './json-style.ts';
import { tagFormat, type BlockContext, type BlockResult } from './scanner.ts';
import type { AssistantTurn, RenderOptions } from './types.ts';

// Kimi-K2's calls, as its chat template prints them and vLLM's `kimi_k2` parser reads them:
//   <think>reasoning</think>content<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0
//   <|tool_call_argument_begin|>{"k": "v"}<|tool_call_end|><|tool_calls_section_end|>
// The call id carries the name (`functions.<name>:<n>`, the name being what follows the last dot
// before the colon) and is kept as the call's id. Kimi-K2-Instruct does not think; K2-Thinking
// writes its own `<think>…</think>` first.

const OPEN = '<|tool_calls_section_begin|>';
const CLOSE = '<|tool_calls_section_end|>';
const CALL = '<|tool_call_begin|>';
const ARGS = '<|tool_call_argument_begin|>';
const CALL_END = '<|tool_call_end|>';
const ID = /^(?:[^:]*\.)?([^.:]+):\d+$/;

/** Ids number the turn's calls from 0; Kimi's own counter runs across the conversation, which a single turn cannot know. */
export function renderKimiK2(turn: AssistantTurn, options: RenderOptions = {}): string {
  let out = '';
  if (turn.reasoning !== undefined && turn.reasoning !== null) out += `${options.thinkOpenedByPrompt ? '' : '<think>'}${turn.reasoning}</think>`;
  out += turn.content;
  if (turn.toolCalls.length > 0) {
    out += OPEN;
    turn.toolCalls.forEach((call, i) => {
      out += `${CALL}functions.${call.name}:${i}${ARGS}${pythonJson(call.arguments)}${CALL_END}`;
    });
    out += CLOSE;
  }
  return out;
}

function parseKimiBlock(body: string, context: BlockContext): BlockResult {
  return parseDelimitedCalls(body, context, {
    section: `${OPEN} section`,
    begin: CALL,
    sep: ARGS,
    end: CALL_END,
    head: (id) => ({ name: nameOf(id), id, ...(ID.test(id) ? {} : { problem: 'expected an id like functions.<name>:<n>' }) }),
  });
}

/** `functions.get_weather:0` → `get_weather`; as vLLM: the part before the colon, after its last dot. */
function nameOf(id: string): string {
  const head = id.split(':')[0] ?? '';
  return head.slice(head.lastIndexOf('.') + 1);
}

export const kimiK2 = tagFormat({ name: 'kimi-k2', render: renderKimiK2, syntax: { open: OPEN, close: CLOSE, parseBlock: parseKimiBlock }, thinkStart: 'model' });
