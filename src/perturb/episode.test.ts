import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stableStringify, Task, type Environment, type FinalTrajectory, type Message, type ToolSpec } from '../core/index.ts';
import { getEnvironment, instantiate } from '../envs/index.ts';
import { ACKNOWLEDGEMENT, MIN_CONTEXT_BUDGET, perturbEpisode, replayPerturbations, resolvePerturbations, toolsOf, type PerturbedEpisode } from './index.ts';
import { sentencesOf } from './text.ts';
import { kvEnvironment, kvTask, replayKv } from './test-env.ts';

const signal = new AbortController().signal;

function perturb(specs: string[], options: { seed?: number; task?: Task; tools?: readonly ToolSpec[] } = {}): PerturbedEpisode {
  return perturbEpisode({ task: options.task ?? kvTask, tools: options.tools ?? toolsOf(kvEnvironment), resolved: resolvePerturbations(specs), seed: options.seed ?? 1 });
}

describe('prompts', () => {
  it('keeps the task’s own system prompt after a new framing, in every variant and language', () => {
    const frames = new Set<string>();
    for (const spec of ['prompts.system:terse', 'prompts.system:verbose', 'prompts.system:persona', 'prompts.system:language,language=fr', 'prompts.system:language,language=de', 'prompts.system:language,language=es']) {
      const prompt = perturb([spec]).task.systemPrompt ?? '';
      assert.ok(prompt.endsWith('\n\nYou manage the kv store of Robin Hale.'), spec);
      frames.add(prompt);
    }
    assert.equal(frames.size, 6);
    assert.match(perturb(['prompts.system:language,language=de']).task.systemPrompt ?? '', /Antworte auf Englisch/);
    const textOnly = perturb(['prompts.system:verbose'], { tools: [] }).task.systemPrompt ?? '';
    assert.ok(!/tool/i.test(textOnly.split('\n\n')[0]!), 'a text-only task is not told about tools');
  });

  it('paraphrases around the request’s own words', () => {
    for (const style of ['framed', 'casual', 'formal']) assert.ok(perturb([`prompts.paraphrase:${style}`]).task.instruction.includes(kvTask.instruction), style);
    const bulleted = perturb(['prompts.paraphrase:bulleted']).task.instruction;
    assert.equal(bulleted, 'Please handle the following:\n1. Store "one" under alpha as a pinned secret.\n2. Then store "two" under beta.\n3. Use put_value for both.');
  });

  it('splits the request across user turns; the oracle acknowledges, then answers', async () => {
    const episode = perturb(['prompts.split:parts=3']);
    const parts = sentencesOf(kvTask.instruction);
    assert.equal(episode.task.instruction, `${parts[0]} (More details follow in my next message; wait for them before you finish.)`);
    assert.deepEqual(episode.task.golden.followUpAnswers, [ACKNOWLEDGEMENT, 'Done.']);
    assert.equal(episode.task.golden.answer, ACKNOWLEDGEMENT);
    const environment = episode.wrapEnvironment(instantiate(kvEnvironment));
    await environment.reset(episode.task, { seed: 1 });
    assert.equal(await environment.followUp?.(ACKNOWLEDGEMENT, 1), parts[1]);
    assert.equal(await environment.followUp?.(ACKNOWLEDGEMENT, 2), parts[2]);
    assert.equal(await environment.followUp?.('Done.', 3), null);
    await environment.close();
  });

  it('does not split text-only or multi-turn tasks, or one-sentence requests, and says why', () => {
    assert.deepEqual(perturb(['prompts.split'], { tools: [] }).skipped, [{ id: 'prompts.split', reason: 'a text-only task is graded turn by turn' }]);
    const short = Task.parse({ ...kvTask, instruction: 'Store one under alpha.' });
    assert.match(perturb(['prompts.split'], { task: short }).skipped[0]?.reason ?? '', /single sentence/);
  });
});

describe('environment', () => {
  it('reseeds the world: another background, same fixtures, and the golden solution still passes', async () => {
    const mail = getEnvironment('mail');
    const task = mail.tasks()[0]!;
    const plain = await replayKv(perturb([], { task, tools: toolsOf(mail) }), 1, mail);
    const other = perturb(['environment.reseed'], { task, tools: toolsOf(mail) });
    assert.notEqual(other.worldSeed(1), 1);
    const replay = await replayKv(other, 1, mail);
    await Promise.all([plain.environment.close(), replay.environment.close()]);
    assert.equal(replay.passed, true);
    assert.notEqual(replay.state, plain.state);
  });

  it('uses the knobs environments have, and says which cannot vary', () => {
    const mail = getEnvironment('mail').tasks()[0]!;
    const bigger = perturb(['environment.size:scale=2'], { task: mail, tools: toolsOf(getEnvironment('mail')) });
    assert.deepEqual(bigger.task.initialState.background, { min: 80, max: 220 });
    const qa = getEnvironment('qa').tasks()[0]!;
    const none = perturb(['environment.reseed', 'environment.size', 'environment.layout'], { task: qa, tools: [] });
    assert.deepEqual(
      none.skipped.map((s) => s.reason),
      ['qa has no world: its questions are fixed text', 'qa has no world: its questions are fixed text', 'only terminal and coding tasks have a file layout (not qa)'],
    );
    const calendar = getEnvironment('calendar').tasks()[0]!;
    assert.match(perturb(['environment.size'], { task: calendar, tools: [] }).skipped[0]?.reason ?? '', /fixed size/);
  });

  it('surrounds a terminal task’s files with others and leaves its own untouched', () => {
    const task = getEnvironment('terminal').tasks()[0]!;
    const episode = perturb(['environment.layout:files=10'], { task, tools: toolsOf(getEnvironment('terminal')) });
    const before = task.initialState.files as Record<string, string>;
    const after = episode.task.initialState.files as Record<string, string>;
    assert.equal(Object.keys(after).length, Object.keys(before).length + 10);
    for (const [path, content] of Object.entries(before)) assert.equal(after[path], content);
  });
});

describe('scaffold settings', () => {
  it('produces the settings the runner applies', () => {
    assert.deepEqual(perturb(['scaffold.thinking']).settings, { scaffold: 'drop-thinking' });
    assert.deepEqual(perturb(['scaffold.tools:minimax-xml']).settings, { scaffold: 'text-tools', toolFormat: 'minimax-xml' });
    assert.deepEqual(perturb(['scaffold.tools:native']).settings, { scaffold: 'interleaved' });
    assert.deepEqual(perturb([`scaffold.budget:turns=2,contextTokens=${MIN_CONTEXT_BUDGET}`]).settings, { maxTurns: 100, context: { budgetTokens: MIN_CONTEXT_BUDGET, keepRecentTurns: 4 } });
  });

  it('never sets a turn budget below what the golden solution needs, counting retries and split turns', () => {
    const episode = perturb(['responses.transient:rate=1,times=3', 'prompts.split:parts=3', 'scaffold.budget:turns=0.1']);
    assert.equal(episode.settings.maxTurns, episode.task.golden.steps.length + 1 + 2);
  });
});

describe('applying and wrapping', () => {
  it('records what it applied with seeds, and the records rebuild the same episode', () => {
    const mail = getEnvironment('mail');
    const task = mail.tasks()[0]!;
    const specs = ['tools.rename', 'tools.distractors', 'responses.noise', 'prompts.paraphrase', 'environment.reseed'];
    const episode = perturb(specs, { seed: 42, task, tools: toolsOf(mail) });
    assert.deepEqual(
      episode.records.map((r) => r.name),
      ['environment.reseed', 'tools.rename', 'tools.distractors', 'responses.noise', 'prompts.paraphrase'],
    );
    assert.equal(new Set(episode.records.map((r) => r.seed)).size, episode.records.length, 'each perturbation has its own seed');
    const rebuilt = replayPerturbations({ task, tools: toolsOf(mail), records: episode.records });
    assert.equal(stableStringify({ task: rebuilt.task, tools: rebuilt.tools }), stableStringify({ task: episode.task, tools: episode.tools }));
    assert.equal(rebuilt.worldSeed(9), episode.worldSeed(9));
  });

  it('leaves the environment unwrapped when nothing changes what it does', () => {
    const environment = instantiate(kvEnvironment);
    assert.equal(perturb(['prompts.system', 'scaffold.thinking']).wrapEnvironment(environment), environment);
    assert.notEqual(perturb(['tools.rename']).wrapEnvironment(environment), environment);
  });

  it('passes tools the layers do not know through unchanged, and shows the verifier the environment’s own names', async () => {
    let seen: FinalTrajectory | undefined;
    const extra: ToolSpec = { name: 'mcp__lookup', description: 'an MCP tool', parameters: { type: 'object', properties: {} } };
    const calls: string[] = [];
    const inner: Environment = {
      specificationVersion: 'v1',
      name: 'kv',
      clock: { now: () => new Date(0), advance: () => {} },
      reset: async () => ({}),
      tools: () => [...toolsOf(kvEnvironment), extra],
      call: async (tool) => {
        calls.push(tool);
        return { ok: true, content: 'fine' };
      },
      snapshot: async () => ({}),
      verify: async (final) => {
        seen = final;
        return { passed: true, score: 1, checks: [] };
      },
      destructiveActions: async () => [{ tool: 'put_value', arguments: { item_key: 'a', value: 'b' } }],
      close: async () => {},
    };
    const episode = perturb(['tools.rename:opaque']);
    const wrapped = episode.wrapEnvironment(inner);
    await wrapped.reset(episode.task, { seed: 1 });
    const put = episode.task.golden.steps[1]!;
    assert.ok(wrapped.tools().some((t) => t.name === 'mcp__lookup'));
    await wrapped.call('mcp__lookup', {}, { signal });
    await wrapped.call(put.tool, put.arguments, { signal });
    assert.deepEqual(calls, ['mcp__lookup', 'put_value']);
    const destructive = await wrapped.destructiveActions();
    assert.equal(destructive[0]?.tool, put.tool, 'destructive actions come in the agent’s terms');
    const messages: Message[] = [{ role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: put.tool, arguments: put.arguments, argumentsText: JSON.stringify(put.arguments) }] }];
    await wrapped.verify({ answer: null, messages });
    const call = seen?.messages?.[0]?.role === 'assistant' ? seen.messages[0].toolCalls[0] : undefined;
    assert.deepEqual(call && { name: call.name, arguments: call.arguments }, { name: 'put_value', arguments: { item_key: 'alpha', value: 'one', mode: 'secret', pinned: true } });
  });
});
