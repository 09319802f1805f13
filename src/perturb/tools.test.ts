import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instantiate } from '../envs/index.ts';
import { perturbEpisode, resolvePerturbations, toolsOf, type PerturbedEpisode } from './index.ts';
import { kvEnvironment, kvTask, replayKv } from './test-env.ts';

const signal = new AbortController().signal;

function perturb(specs: string[], seed = 1): PerturbedEpisode {
  return perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(specs), seed });
}

function tool(episode: PerturbedEpisode, name: string) {
  const found = episode.tools.find((t) => t.name === name);
  assert.ok(found, `${name} is offered`);
  return found;
}

function properties(episode: PerturbedEpisode, name: string): Record<string, Record<string, unknown>> {
  return tool(episode, name).parameters.properties as Record<string, Record<string, unknown>>;
}

describe('tools.rename', () => {
  const episode = perturb(['tools.rename']);
  const renamed = new Map(toolsOf(kvEnvironment).map((t, i) => [t.name, episode.tools[i]!.name]));
  const putValue = renamed.get('put_value')!;

  it('renames every tool and parameter, none to an original name, and the golden solution with them', async () => {
    const originals = new Set(renamed.keys());
    for (const [from, to] of renamed) assert.ok(to !== from && !originals.has(to), `${from} → ${to}`);
    assert.ok(!('item_key' in properties(episode, putValue)), 'item_key renamed');
    assert.deepEqual(
      episode.task.golden.steps.map((s) => s.tool),
      ['list_keys', 'put_value', 'put_value', 'submit'].map((t) => renamed.get(t)),
    );
    const replay = await replayKv(episode);
    await replay.environment.close();
    assert.equal(replay.passed, true);
  });

  it('renames identifier-like names in the instruction but leaves ordinary words', () => {
    assert.ok(episode.task.instruction.includes(`Use ${putValue} for both`), episode.task.instruction);
    assert.ok(episode.task.instruction.startsWith('Store "one" under alpha'));
  });

  it('never lets an original name through: unknown tool, dropped parameter, renamed error text', async () => {
    const environment = episode.wrapEnvironment(instantiate(kvEnvironment));
    await environment.reset(episode.task, { seed: 1 });
    const unknown = await environment.call('put_value', { item_key: 'x', value: 'y' }, { signal });
    assert.equal(unknown.ok, false);
    // It may echo the name the model called, but lists only the new ones.
    assert.ok(!unknown.ok && unknown.kind === 'unknown_tool', 'an original tool name is unknown');
    assert.equal(!unknown.ok && unknown.error.split('available: ')[1], [...renamed.values()].join(', '));
    const oldParam = await environment.call(putValue, { item_key: 'x', value: 'y' }, { signal });
    assert.ok(!oldParam.ok && oldParam.kind === 'invalid_arguments', 'the original parameter name is not understood');
    assert.ok(!oldParam.ok && !/item_key|put_value/.test(oldParam.error), !oldParam.ok ? oldParam.error : '');
    const missing = await environment.call(renamed.get('read_value')!, { [Object.keys(properties(episode, renamed.get('read_value')!))[0]!]: 'nope' }, { signal });
    assert.ok(!missing.ok && missing.error.includes(renamed.get('list_keys')!) && !missing.error.includes('list_keys'), !missing.ok ? missing.error : '');
    // A name inside a structured result is renamed in its data, and the result stays structured.
    const keyParam = Object.keys(properties(episode, putValue)).find((k) => properties(episode, putValue)[k]?.description === 'the key to write')!;
    const valueParam = Object.keys(properties(episode, putValue)).find((k) => properties(episode, putValue)[k]?.description === 'the value')!;
    await environment.call(putValue, { [keyParam]: 'hint', [valueParam]: 'call read_value next' }, { signal });
    const listing = await environment.call(renamed.get('list_keys')!, {}, { signal });
    assert.ok(listing.ok && listing.content === JSON.stringify(listing.data));
    assert.ok(listing.ok && listing.content.includes(`call ${renamed.get('read_value')} next`) && !listing.content.includes('read_value'));
    await environment.close();
  });

  it('refuses a misspelt argument in the shown names, as the environment does, instead of dropping it', async () => {
    const environment = episode.wrapEnvironment(instantiate(kvEnvironment));
    await environment.reset(episode.task, { seed: 1 });
    const shown = properties(episode, putValue);
    const keyParam = Object.keys(shown).find((k) => shown[k]?.description === 'the key to write')!;
    const valueParam = Object.keys(shown).find((k) => shown[k]?.description === 'the value')!;
    const misspelt = `${valueParam}x`;
    const outcome = await environment.call(putValue, { [keyParam]: 'k', [misspelt]: 'v' }, { signal });
    assert.ok(!outcome.ok && outcome.kind === 'invalid_arguments', JSON.stringify(outcome));
    assert.ok(!outcome.ok && outcome.error.includes(`"${misspelt}"`), !outcome.ok ? outcome.error : '');
    // The refusal speaks the shown names only: no original parameter or tool name gets through.
    assert.ok(!outcome.ok && !/item_key|put_value/.test(outcome.error), !outcome.ok ? outcome.error : '');
    await environment.close();
  });

  it('keeps parameter names with parameters=false, and names tools in each style', () => {
    const toolsOnly = perturb(['tools.rename:parameters=false']);
    assert.ok(toolsOnly.tools.some((t) => 'item_key' in (t.parameters.properties as object)));
    const camel = perturb(['tools.rename:case']);
    assert.ok(camel.tools.some((t) => t.name === 'putValue'));
    assert.ok(camel.tools.some((t) => t.name === 'Submit'));
    const spaced = perturb(['tools.rename:namespace']);
    assert.ok(spaced.tools.every((t) => /^[a-z]+__[a-z_]+$/.test(t.name)), spaced.tools.map((t) => t.name).join());
    const opaque = perturb(['tools.rename:opaque']);
    assert.ok(opaque.tools.every((t) => /^[a-z][0-9a-z]{4}$/.test(t.name)), opaque.tools.map((t) => t.name).join());
  });
});

describe('tools.schema', () => {
  it('nests the arguments under one key, says so when a call is flat, and nests the golden solution', async () => {
    const episode = perturb(['tools.schema:nest']);
    const put = tool(episode, 'put_value');
    const [key] = Object.keys(put.parameters.properties as object);
    assert.ok(key);
    assert.deepEqual(episode.task.golden.steps[1]?.arguments, { [key]: { item_key: 'alpha', value: 'one', mode: 'secret', pinned: true } });
    const replay = await replayKv(episode);
    const flat = await replay.environment.call('put_value', { item_key: 'x', value: 'y' }, { signal });
    await replay.environment.close();
    assert.equal(replay.passed, true);
    assert.ok(!flat.ok && flat.kind === 'invalid_arguments' && flat.error.includes(`inside "${key}"`), !flat.ok ? flat.error : '');
  });

  it('makes defaulted parameters required, fills the defaults into the golden solution and refuses calls without them', async () => {
    const episode = perturb(['tools.schema:require-defaults']);
    assert.deepEqual(tool(episode, 'put_value').parameters.required, ['item_key', 'value', 'mode', 'pinned']);
    assert.equal(properties(episode, 'put_value').mode?.default, undefined);
    assert.deepEqual(episode.task.golden.steps[2]?.arguments, { item_key: 'beta', value: 'two', mode: 'plain', pinned: false });
    const replay = await replayKv(episode);
    const short = await replay.environment.call('put_value', { item_key: 'x', value: 'y' }, { signal });
    await replay.environment.close();
    assert.equal(replay.passed, true);
    assert.ok(!short.ok && /missing required arguments "mode", "pinned"/.test(short.error));
  });

  it('adds optional fields that change nothing and strips them on the way down', async () => {
    const episode = perturb(['tools.schema:extra-optional']);
    const extra = Object.keys(properties(episode, 'put_value')).filter((k) => !['item_key', 'value', 'mode', 'pinned'].includes(k));
    assert.ok(extra.length >= 1);
    const replay = await replayKv(episode);
    const call = await replay.environment.call('put_value', { item_key: 'gamma', value: 'g', ...Object.fromEntries(extra.map((k) => [k, properties(episode, 'put_value')[k]?.type === 'boolean' ? true : 'x'])) }, { signal });
    await replay.environment.close();
    assert.equal(call.ok, true);
  });

  it('turns enums into strings that list their values, and booleans into yes/no', async () => {
    const strings = perturb(['tools.schema:enum-to-string']);
    assert.equal(properties(strings, 'put_value').mode?.enum, undefined);
    assert.match(String(properties(strings, 'put_value').mode?.description), /one of plain, secret/);
    const flags = perturb(['tools.schema:bool-to-enum']);
    assert.deepEqual(properties(flags, 'put_value').pinned, { type: 'string', enum: ['yes', 'no'], default: 'no' });
    assert.equal(flags.task.golden.steps[1]?.arguments.pinned, 'yes');
    const replay = await replayKv(flags);
    const wrong = await replay.environment.call('put_value', { item_key: 'x', value: 'y', pinned: true }, { signal });
    await replay.environment.close();
    assert.equal(replay.passed, true);
    assert.ok(!wrong.ok && /"pinned" must be "yes" or "no"/.test(wrong.error));
  });

  it('says when a change has nothing to act on', () => {
    const noEnums = { ...kvTask };
    const episode = perturbEpisode({ task: noEnums, tools: toolsOf(kvEnvironment).filter((t) => t.name === 'read_value'), resolved: resolvePerturbations(['tools.schema:bool-to-enum']), seed: 1 });
    assert.deepEqual(episode.skipped, [{ id: 'tools.schema', reason: 'no parameter is a boolean' }]);
    assert.deepEqual(episode.records, []);
  });
});

describe('tools.describe, tools.reorder and tools.distractors', () => {
  it('rewrites, shortens and lengthens descriptions from what the spec says', () => {
    const original = toolsOf(kvEnvironment).find((t) => t.name === 'list_keys')!.description;
    const rewritten = tool(perturb(['tools.describe:rewrite']), 'list_keys').description;
    assert.notEqual(rewritten, original);
    assert.match(rewritten, /list every key with its value/i);
    const short = perturb(['tools.describe:shorten']);
    assert.equal(tool(short, 'list_keys').description, 'List every key with its value.');
    assert.equal(properties(short, 'put_value').item_key?.description, undefined);
    const long = tool(perturb(['tools.describe:lengthen']), 'put_value').description;
    assert.match(long, /- mode \(one of "plain", "secret", optional, default "plain"\)/);
    assert.match(long, /- item_key \(string, required\): the key to write/);
  });

  it('shuffles tools and parameters without changing any call', async () => {
    const episode = perturb(['tools.reorder'], 3);
    assert.deepEqual(new Set(episode.tools.map((t) => t.name)), new Set(toolsOf(kvEnvironment).map((t) => t.name)));
    assert.notDeepEqual(
      episode.tools.map((t) => t.name),
      toolsOf(kvEnvironment).map((t) => t.name),
    );
    const replay = await replayKv(episode);
    await replay.environment.close();
    assert.equal(replay.passed, true);
  });

  it('adds working distractors that never touch the environment', async () => {
    const episode = perturb(['tools.distractors:count=12']);
    const names = episode.tools.map((t) => t.name);
    for (const name of ['calculate', 'convert_units', 'current_time', 'count_words', 'put_value_legacy']) assert.ok(names.includes(name), name);
    const replay = await replayKv(episode);
    const before = await replay.environment.snapshot();
    const sum = await replay.environment.call('calculate', { expression: '(2 + 3) * 4 - 10 / 4' }, { signal });
    const miles = await replay.environment.call('convert_units', { value: 100, from: 'C', to: 'F' }, { signal });
    const clock = await replay.environment.call('current_time', { time_zone: 'Europe/Berlin' }, { signal });
    const retired = await replay.environment.call('put_value_legacy', { item_key: 'x', value: 'y' }, { signal });
    const after = await replay.environment.snapshot();
    await replay.environment.close();
    assert.equal(replay.passed, true);
    assert.deepEqual(sum.ok && sum.data, { expression: '(2 + 3) * 4 - 10 / 4', result: 17.5 });
    assert.equal(miles.ok && (miles.data as { result: number }).result, 212);
    assert.match(clock.ok ? clock.content : '', /16 March 2026/);
    assert.ok(!retired.ok && retired.kind === 'tool_error' && retired.error.includes('use put_value'));
    assert.deepEqual(after, before);
  });
});
