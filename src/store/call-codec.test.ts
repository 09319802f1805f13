import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markImmutable, type JsonValue, type Message, type ModelCall, type RolloutId, type RunId, type ToolSpec } from '../core/index.ts';
import { emptyDeltaState, encodeCall, type EncodedCall } from './call-codec.ts';
import { turnCall } from './test-support.ts';

const ids = { runId: 'run_c' as RunId, rolloutId: 'ro_c' as RolloutId };

/** An attempt's calls: the same tool list on each (neutral and wire), a history that grows. */
function attempt(tools: ToolSpec[], wireTools: JsonValue[]): ModelCall[] {
  const history: Message[] = [{ role: 'system', content: 'sys — ünïcode' }, { role: 'user', content: 'hi' }];
  const calls: ModelCall[] = [];
  for (let i = 0; i < 4; i++) {
    const messages = [...history];
    calls.push(
      turnCall(ids, i, {
        request: { messages, tools, sampling: { temperature: 0.5 } },
        wire: { url: 'http://127.0.0.1/v1/chat/completions', request: { model: 'm', messages: messages.map((m) => ({ role: m.role, content: m.content })), tools: wireTools, stream: true }, status: 200, response: { id: `c${i}` } },
      }),
    );
    history.push({ role: 'assistant', content: `turn ${i}`, toolCalls: [] }, { role: 'user', content: `next ${i}` });
  }
  return calls;
}

function encodeAll(calls: readonly ModelCall[]): EncodedCall[] {
  const state = emptyDeltaState();
  return calls.map((call) => encodeCall(call, state, (json) => json.replaceAll('secret-key', '***')));
}

describe('call codec', () => {
  it('stores the same bytes whether or not the tool lists were marked immutable (their kept JSON spliced in)', () => {
    const tools: ToolSpec[] = [{ name: 'look', description: 'Look around — carefully; never echo secret-key.', parameters: { type: 'object', properties: { where: { type: 'string' } } } }];
    const wireTools = tools.map((t): JsonValue => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    const plain = encodeAll(attempt(structuredClone(tools), structuredClone(wireTools)));
    const kept = encodeAll(attempt(markImmutable(structuredClone(tools)), markImmutable(structuredClone(wireTools))));
    assert.deepEqual(kept, plain);
    assert.ok(plain[0]!.json.includes('"tools":[{"name":"look"') && !plain[0]!.json.includes('secret-key'), 'the first call stores its lists whole, scrubbed');
    assert.ok(plain.slice(1).every((e) => e.toolsFrom !== null), 'later calls name the first');
  });
});
