import { parseInput, type JsonObject, type ModelClient, type ModelResult, type ReasoningSource } from '../core/index.ts';
import { parseOpenAIMessage } from './openai-parse.ts';
import { resolveToolCalls, Script, scriptedFinishReason, scriptExhaustedMessage, turnIndex, type ReasoningStyle, type ScriptInput, type ScriptTurn } from './script.ts';

const SOURCE_OF_STYLE: Record<ReasoningStyle, ReasoningSource> = {
  inline_think: 'inline_think',
  reasoning_content: 'reasoning_content_field',
  reasoning_field: 'reasoning_field',
  reasoning_details: 'reasoning_details',
};

/**
 * Replays a script in process, one turn per call. Stateless: the turn is the number of assistant
 * messages already in the request, so one client serves any number of concurrent rollouts.
 * A call past the end fails loudly rather than improvising. A turn's `fault` fails every call on
 * that turn (the mock server, which keeps state, fails only the first).
 */
export function createScriptedModel(input: ScriptInput, name = 'inline'): ModelClient {
  const script = parseInput(Script, input, `scripted model ${name}`);
  return {
    specificationVersion: 'v1',
    spec: `scripted:${name}`,
    async complete(request, { signal }): Promise<ModelResult> {
      const index = turnIndex(request.messages);
      const turn = script.turns[index];
      if (!turn) return { ok: false, kind: 'script', message: scriptExhaustedMessage(script, index), retryable: false };
      if (turn.fault) return fault(turn, index, signal);
      return playTurn(turn, index);
    },
  };
}

function playTurn(turn: ScriptTurn, index: number): ModelResult {
  // A plain JSON copy: the record must not share objects with the script.
  const provider = { api: 'in-process' as const, message: JSON.parse(JSON.stringify(turn)) as JsonObject };
  const finishReason = scriptedFinishReason(turn);
  if (turn.raw) {
    const parsed = parseOpenAIMessage(turn.raw);
    if (typeof parsed === 'string') return { ok: false, kind: 'script', message: `scripted model: turns.${index}.raw: ${parsed}`, retryable: false };
    return { ok: true, response: { message: { role: 'assistant', ...parsed, provider }, finishReason, usage: {} } };
  }
  const reasoning = turn.reasoning === undefined ? undefined : { text: turn.reasoning, source: SOURCE_OF_STYLE[turn.reasoningStyle ?? 'inline_think'] };
  return {
    ok: true,
    response: {
      message: { role: 'assistant', content: turn.content ?? '', ...(reasoning ? { reasoning } : {}), toolCalls: resolveToolCalls(turn, index), provider },
      finishReason,
      usage: {},
    },
  };
}

async function fault(turn: ScriptTurn, index: number, signal: AbortSignal): Promise<ModelResult> {
  const where = `scripted fault ${turn.fault} at turn ${index}`;
  switch (turn.fault) {
    case 'http_500':
      return { ok: false, kind: 'http', message: `${where}: HTTP 500`, retryable: true };
    case 'malformed_json':
      return { ok: false, kind: 'malformed_response', message: `${where}: body is not JSON`, retryable: false };
    case 'cut_stream':
      return { ok: false, kind: 'connection', message: `${where}: the connection closed before the answer was complete`, retryable: true };
    default: {
      // `hang`: answer nothing until the caller gives up; all that time the "endpoint" was silent.
      const started = Date.now();
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return { ok: false, kind: 'aborted', message: `${where}: aborted by the caller`, retryable: false, silentMs: Date.now() - started };
    }
  }
}
