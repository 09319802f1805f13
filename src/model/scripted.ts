import { DefectError, parseInput, type JsonObject, type ModelClient, type ModelResult, type ReasoningSource } from '../core/index.ts';
import { parseOpenAIMessage } from './openai-parse.ts';
import { remainingTurns, resolveToolCalls, Script, scriptedFinishReason, turnIndex, type ReasoningStyle, type ScriptInput, type ScriptTurn } from './script.ts';

const SOURCE_OF_STYLE: Record<ReasoningStyle, ReasoningSource> = {
  inline_think: 'inline_think',
  reasoning_content: 'reasoning_content_field',
  reasoning_field: 'reasoning_field',
  reasoning_details: 'reasoning_details',
};

/**
 * Replays a script in process, one turn per call. Stateless: the turn is the number of assistant
 * messages already in the request, so one client serves any number of concurrent rollouts.
 * A script that does not match its rollout is a mistake in the test, not a failing endpoint: a call
 * past the end, or a rollout that ends with turns unplayed, is a DefectError (the rollout is
 * `error`, never scored, and the run fails) rather than improvised or silently passed. A turn's
 * `fault` fails every call on that turn (the mock server, which keeps state, fails only the first).
 */
export function createScriptedModel(input: ScriptInput, name = 'inline'): ModelClient {
  const script = parseInput(Script, input, `scripted model ${name}`);
  const where = `scripted model ${name}`;
  return {
    specificationVersion: 'v1',
    spec: `scripted:${name}`,
    async complete(request, { signal }): Promise<ModelResult> {
      const index = turnIndex(request.messages);
      const turn = script.turns[index];
      if (!turn) throw new DefectError('gauntlet', pastTheEnd(where, script, index));
      if (turn.fault) return fault(turn, index, signal);
      return playTurn(turn, index);
    },
    rolloutEnded({ reason, history }) {
      // A deadline or a cancel stops the rollout from outside: the script is not to blame.
      if (reason === 'deadline' || reason === 'cancelled' || remainingTurns(script, history) === 0) return;
      throw new DefectError('gauntlet', leftOver(where, script, turnIndex(history), reason));
    },
  };
}

/** What a turn does, to say which one was expected: its tool calls, else its answer. */
function describeTurn(turn: ScriptTurn | undefined): string {
  if (!turn) return 'nothing';
  if (turn.fault) return `fault ${turn.fault}`;
  const calls = turn.toolCalls ?? [];
  if (calls.length > 0) return `calls ${calls.map((c) => c.name).join(', ')}`;
  if (turn.raw) return 'a raw message';
  const text = (turn.content ?? '').replace(/\s+/g, ' ').trim();
  return `answers "${text.length > 40 ? `${text.slice(0, 39)}…` : text}"`;
}

const turnsOf = (script: Script) => `${script.turns.length} turn${script.turns.length === 1 ? '' : 's'}`;

function pastTheEnd(where: string, script: Script, index: number): string {
  const last = script.turns.length - 1;
  const expected = last < 0 ? 'expected no call at all' : `expected the rollout to end after turn ${last} (${describeTurn(script.turns[last])})`;
  return `${where}: call ${index + 1} asked for turn ${index}, past the end of the script (${turnsOf(script)}); ${expected}`;
}

function leftOver(where: string, script: Script, played: number, reason: string): string {
  const last = script.turns.length - 1;
  const when = played === 0 ? 'before turn 0' : `after turn ${played - 1}`;
  const unplayed = played === last ? `turn ${last}` : `turns ${played}–${last}`;
  return `${where}: the rollout ended (${reason}) ${when}, with ${unplayed} of the script (${turnsOf(script)}) unplayed; expected turn ${played} next (${describeTurn(script.turns[played])})`;
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
