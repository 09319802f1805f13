import { parseDelimitedCalls } from './delimited-calls.ts';
import { pythonJson } from './json-style.ts';
import { tagFormat, type BlockContext, type BlockResult } from './scanner.ts';
import type { AssistantTurn, RenderOptions } from './types.ts';

// DeepSeek-V3.1's calls, as its chat template prints them after `<｜Assistant｜></think>` and
// vLLM's `deepseek_v31` parser reads them:
//   content<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{"k": "v"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>
// The template's default is `thinking=false`, whose generation prompt closes the reasoning block,
// so by default there is no reasoning; with `thinking=true` the prompt ends in `<think>` and the
// completion starts as reasoning up to `</think>` (pass `promptOpensThink`).

const OPEN = '<｜tool▁calls▁begin｜>';
const CLOSE = '<｜tool▁calls▁end｜>';
const CALL = '<｜tool▁call▁begin｜>';
const SEP = '<｜tool▁sep｜>';
const CALL_END = '<｜tool▁call▁end｜>';

/** Reasoning is written as it follows a prompt ending in `<think>` unless `thinkOpenedByPrompt` is false. */
export function renderDeepSeekV31(turn: AssistantTurn, options: RenderOptions = {}): string {
  const opened = options.thinkOpenedByPrompt ?? true;
  let out = '';
  if (turn.reasoning !== undefined && turn.reasoning !== null) out += `${opened ? '' : '<think>'}${turn.reasoning}</think>`;
  out += turn.content;
  if (turn.toolCalls.length > 0) {
    out += OPEN;
    for (const call of turn.toolCalls) out += `${CALL}${call.name}${SEP}${pythonJson(call.arguments)}${CALL_END}`;
    out += CLOSE;
  }
  return out;
}

function parseDeepSeekBlock(body: string, context: BlockContext): BlockResult {
  return parseDelimitedCalls(body, context, {
    section: `${OPEN} block`,
    begin: CALL,
    sep: SEP,
    end: CALL_END,
    head: (name) => (name === '' ? { name, problem: 'no function name' } : { name }),
  });
}

export const deepseekV31 = tagFormat({ name: 'deepseek-v3.1', render: renderDeepSeekV31, syntax: { open: OPEN, close: CLOSE, parseBlock: parseDeepSeekBlock }, thinkStart: 'off' });
