import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { counterCatalog } from '../../test/support/counter-env.ts';
import { DefectError, InputError, ModelResponse, RunConfig, type AssistantMessage, type Message, type ModelResult } from '../core/index.ts';
import { executeRun, selectTasks } from '../runner/index.ts';
import { openStore } from '../store/index.ts';
import { loadScript, remainingTurns, Script, type ScriptInput } from './script.ts';
import { createScriptedModel } from './scripted.ts';
import { fixturePath, request, signal } from './testing.ts';

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  return ModelResponse.parse(result.response);
}

/** Plays the model against itself: each reply (and a tool result per call) is appended. */
async function play(script: Script, turns: number): Promise<{ messages: Message[]; results: ModelResult[] }> {
  const model = createScriptedModel(script);
  const messages: Message[] = [{ role: 'user', content: 'go' }];
  const results: ModelResult[] = [];
  for (let i = 0; i < turns; i++) {
    const result = await model.complete(request({ messages }), { signal });
    results.push(result);
    if (!result.ok) break;
    messages.push(result.response.message);
    for (const call of result.response.message.toolCalls) messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: 'ok', isError: false });
  }
  return { messages, results };
}

describe('scripted model', () => {
  it('loads a YAML script and replays it turn by turn with deterministic call ids', async () => {
    const script = await loadScript(fixturePath('script-two-turns.yaml'));
    assert.equal(script.model, 'scripted-test');
    const { messages, results } = await play(script, 2);
    const first = ok(results[0] as ModelResult);
    assert.deepEqual(first.message.toolCalls, [{ id: 'call_0_0', name: 'search_mail', arguments: { query: 'invoice' }, argumentsText: '{"query":"invoice"}' }]);
    assert.deepEqual(first.message.reasoning, { text: 'Look at the inbox first.', source: 'inline_think' });
    assert.equal(first.finishReason, 'tool_calls');
    assert.equal(first.message.provider?.api, 'in-process');
    const second = ok(results[1] as ModelResult);
    assert.equal(second.message.content, 'The invoice is from Dana.');
    assert.equal(second.finishReason, 'stop');
    assert.equal(remainingTurns(script, messages), 0);
  });

  it('detects leftover turns when a rollout stops early', async () => {
    const script = await loadScript(fixturePath('script-two-turns.yaml'));
    const { messages } = await play(script, 1);
    assert.equal(remainingTurns(script, messages), 1);
  });

  it('fails a call past the end of the script as a defect naming the script, the turn and what was expected', async () => {
    const model = createScriptedModel(Script.parse({ turns: [{ toolCalls: [{ name: 'look' }] }] }), 'two.yaml');
    const after = [{ role: 'user', content: 'go' }, { role: 'assistant', content: '', toolCalls: [] }] satisfies Message[];
    await assert.rejects(model.complete(request({ messages: after }), { signal }), (error: unknown) => {
      assert.ok(error instanceof DefectError, String(error));
      assert.equal(error.message, 'scripted model two.yaml: call 2 asked for turn 1, past the end of the script (1 turn); expected the rollout to end after turn 0 (calls look)');
      return true;
    });
  });

  it('fails a rollout that ends with turns of the script unplayed, unless a deadline or a cancel ended it', async () => {
    const script = await loadScript(fixturePath('script-two-turns.yaml'));
    const model = createScriptedModel(script, 'two.yaml');
    const { messages } = await play(script, 1);
    assert.throws(
      () => model.rolloutEnded?.({ reason: 'submitted', history: messages }),
      (error: unknown) => error instanceof DefectError && error.message === 'scripted model two.yaml: the rollout ended (submitted) after turn 0, with turn 1 of the script (2 turns) unplayed; expected turn 1 next (answers "The invoice is from Dana.")',
    );
    for (const reason of ['deadline', 'cancelled'] as const) model.rolloutEnded?.({ reason, history: messages });
    const { messages: all } = await play(script, 2);
    model.rolloutEnded?.({ reason: 'answered', history: all });
  });

  describe('in a run', () => {
    /** One rollout of a counter task played by the script; the stored rollout. */
    async function scriptedRollout(turns: ScriptInput['turns']) {
      const store = openStore(':memory:');
      const config = RunConfig.parse({ envs: ['counter'], taskIds: ['counter/a'], model: 'scripted:counter.yaml', epochs: 1, concurrency: 1, seed: 0 });
      const model = createScriptedModel({ turns }, 'counter.yaml');
      const summary = await executeRun({ store, catalog: counterCatalog, model, sleep: async () => {}, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } } });
      return { summary, rollout: store.rollouts(summary.runId)[0]! };
    }
    const increment = { toolCalls: [{ name: 'increment', arguments: { id: 'a' } }] };

    it('a script played to its end is scored', async () => {
      const { rollout } = await scriptedRollout([increment, increment, { content: 'done' }]);
      assert.equal(rollout.status, 'scored');
      assert.equal(rollout.passed, true);
    });

    it('leftover turns make the rollout an error, never scored, and the run counts it', async () => {
      const { summary, rollout } = await scriptedRollout([increment, { content: 'done' }, increment]);
      assert.deepEqual([rollout.status, rollout.score, rollout.error?.kind], ['error', null, 'defect']);
      assert.match(rollout.error?.message ?? '', /scripted model counter\.yaml: the rollout ended \(answered\) after turn 1, with turn 2 of the script \(3 turns\) unplayed; expected turn 2 next \(calls increment\)/);
      assert.equal(summary.errors, 1);
    });

    it('a call past the end makes the rollout an error, not an infra error', async () => {
      const { summary, rollout } = await scriptedRollout([increment, increment]);
      assert.deepEqual([rollout.status, rollout.error?.kind], ['error', 'defect']);
      assert.match(rollout.error?.message ?? '', /call 3 asked for turn 2, past the end of the script \(2 turns\); expected the rollout to end after turn 1 \(calls increment\)/);
      assert.deepEqual([summary.errors, summary.infraErrors], [1, 0]);
    });
  });

  it('keeps scripted ids, malformed argument text and raw messages', async () => {
    const raw = { role: 'assistant', content: null, reasoning_content: 'raw thinking', tool_calls: [{ id: 'x9', type: 'function', function: { name: 'f', arguments: '{}' } }] };
    const script = Script.parse({
      turns: [{ toolCalls: [{ id: 'mine', name: 'f', argumentsText: '{"a": ' }], reasoning: 'r', reasoningStyle: 'reasoning_details' }, { raw }, { content: 'end' }],
    });
    const { results } = await play(script, 3);
    const first = ok(results[0] as ModelResult).message;
    assert.equal(first.toolCalls[0]?.id, 'mine');
    assert.equal(first.toolCalls[0]?.arguments, null);
    assert.match(first.toolCalls[0]?.parseError ?? '', /not valid JSON/);
    assert.equal(first.reasoning?.source, 'reasoning_details');
    const second: AssistantMessage = ok(results[1] as ModelResult).message;
    assert.deepEqual(second.reasoning, { text: 'raw thinking', source: 'reasoning_content_field' });
    assert.equal(second.toolCalls[0]?.id, 'x9');
  });

  it('is stateless: concurrent rollouts each get their own turn', async () => {
    const model = createScriptedModel(Script.parse({ turns: [{ content: 'one' }, { content: 'two' }] }));
    const fresh = request({ messages: [{ role: 'user', content: 'a' }] });
    const later = request({ messages: [{ role: 'user', content: 'b' }, { role: 'assistant', content: 'one', toolCalls: [] }, { role: 'user', content: 'more' }] });
    const [a, b, c] = await Promise.all([model.complete(fresh, { signal }), model.complete(later, { signal }), model.complete(fresh, { signal })]);
    assert.deepEqual([a, b, c].map((r) => ok(r).message.content), ['one', 'two', 'one']);
  });

  it('simulates faults in process', async () => {
    const model = createScriptedModel(Script.parse({ turns: [{ fault: 'http_500' }] }));
    const failure = await model.complete(request({ messages: [] }), { signal });
    assert.equal(failure.ok, false);
    if (!failure.ok) assert.deepEqual([failure.kind, failure.retryable], ['http', true]);
    const hanging = createScriptedModel(Script.parse({ turns: [{ fault: 'hang' }] }));
    const controller = new AbortController();
    const pending = hanging.complete(request({ messages: [] }), { signal: controller.signal });
    controller.abort();
    const aborted = await pending;
    assert.equal(aborted.ok ? 'ok' : aborted.kind, 'aborted');
    assert.equal(aborted.ok ? undefined : typeof aborted.silentMs, 'number', 'a hang reports how long it was silent');
    const cut = await createScriptedModel(Script.parse({ turns: [{ fault: 'cut_stream' }] })).complete(request({ messages: [] }), { signal });
    assert.deepEqual(cut.ok ? 'ok' : [cut.kind, cut.retryable], ['connection', true]);
  });

  it('rejects a bad script naming the file and the field', async () => {
    const path = fixturePath('script-bad-field.yaml');
    await assert.rejects(loadScript(path), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.where, path);
      assert.match(error.message, /turns\.1\.toolCalls\.0/);
      assert.match(error.message, /argumnets/);
      return true;
    });
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-script-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"turns": [');
    await assert.rejects(loadScript(broken), (error: unknown) => error instanceof InputError && error.where === broken && /not valid JSON/.test(error.message));
    const wrongType = join(dir, 'wrong.yaml');
    writeFileSync(wrongType, 'turns:\n  - finishReason: done\n');
    await assert.rejects(loadScript(wrongType), /turns\.0\.finishReason/);
  });
});
