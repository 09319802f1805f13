// tools.rename at every depth: nested property names (block items, database filters and sorts, the
// parameters tools.schema:nest wraps in one object) are renamed in what the agent sees, mapped back
// on the way down and forward in the golden solution, in either order with tools.schema:nest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, JsonValue, ToolSpec } from '../src/core/index.ts';
import { environmentNames, getEnvironment, instantiate } from '../src/envs/index.ts';
import { perturbEpisode, resolvePerturbations, toolsOf, type ResolvedPerturbations } from '../src/perturb/index.ts';
import { kvTask } from '../src/perturb/test-env.ts';
import { RENAME_STYLES } from '../src/perturb/tools/names.ts';
import { renameLayer } from '../src/perturb/tools/rename.ts';
import { replayGolden } from './perturb-support.ts';

const signal = new AbortController().signal;

function isObj(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every schema nested in `schema`, for the walks below (written apart from the code under test). */
function subschemas(schema: JsonObject): JsonObject[] {
  const out: JsonValue[] = [];
  for (const key of ['items', 'additionalItems', 'additionalProperties', 'not']) if (isObj(schema[key])) out.push(schema[key]);
  for (const key of ['items', 'prefixItems', 'anyOf', 'oneOf', 'allOf']) if (Array.isArray(schema[key])) out.push(...schema[key]);
  for (const key of ['properties', '$defs', 'definitions']) if (isObj(schema[key])) out.push(...Object.values(schema[key]));
  return out.filter(isObj);
}

/** The property names a schema lists, at every depth. */
function propertyNames(schema: JsonObject, into = new Set<string>()): Set<string> {
  if (isObj(schema.properties)) for (const name of Object.keys(schema.properties)) into.add(name);
  for (const sub of subschemas(schema)) propertyNames(sub, into);
  return into;
}

/** The keys of every object in `value` that its schema lists properties for (free-form maps left out). */
function argumentKeys(value: JsonValue | undefined, schema: JsonValue | undefined, into = new Set<string>()): Set<string> {
  if (!isObj(schema)) return into;
  if (Array.isArray(value)) for (const item of value) argumentKeys(item, schema.items, into);
  else if (isObj(value) && isObj(schema.properties)) {
    for (const [key, item] of Object.entries(value)) {
      into.add(key);
      argumentKeys(item, schema.properties[key], into);
    }
  }
  return into;
}

/** Arguments in original terms written in the terms of a renamed schema: renaming keeps the order of properties. */
function translate(value: JsonValue, original: JsonValue | undefined, shown: JsonValue | undefined): JsonValue {
  if (!isObj(original) || !isObj(shown)) return value;
  if (Array.isArray(value)) return value.map((item) => translate(item, original.items, shown.items));
  const before = original.properties;
  const after = shown.properties;
  if (!isObj(value) || !isObj(before) || !isObj(after)) return value;
  const to = Object.keys(after);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const renamed = to[Object.keys(before).indexOf(key)]!;
      return [renamed, translate(item, before[key], after[renamed])];
    }),
  );
}

/** The perturbations in the order given, not the catalog's: tools.rename first, then tools.schema:nest. */
function inOrder(specs: string[]): ResolvedPerturbations {
  const resolved = resolvePerturbations(specs);
  const order = specs.map((s) => s.split(':')[0]);
  const entries = [...resolved.entries].sort((a, b) => order.indexOf(a.perturbation.id) - order.indexOf(b.perturbation.id));
  return { entries, specs: entries.map((e) => ({ id: e.perturbation.id, params: e.params })) };
}

const ARMS = (style: string): { name: string; resolved: ResolvedPerturbations }[] => [
  { name: `tools.rename:${style}`, resolved: resolvePerturbations([`tools.rename:${style}`]) },
  { name: `tools.schema:nest → tools.rename:${style}`, resolved: inOrder(['tools.schema:nest', `tools.rename:${style}`]) },
  { name: `tools.rename:${style} → tools.schema:nest`, resolved: inOrder([`tools.rename:${style}`, 'tools.schema:nest']) },
];

const WITH_TOOLS = environmentNames().filter((name) => toolsOf(getEnvironment(name)).length > 0);

describe('tools.rename renames nested parameters', () => {
  it('leaves no original parameter name, at any depth, in the specs of any built-in environment, alone or with tools.schema:nest in either order', () => {
    const leaks: string[] = [];
    const notes = propertyNames({ anyOf: toolsOf(getEnvironment('notes')).map((t) => t.parameters) });
    for (const nested of ['text', 'checked', 'operator', 'direction']) assert.ok(notes.has(nested), `notes lists ${nested}`);
    for (const name of WITH_TOOLS) {
      const definition = getEnvironment(name);
      const originals = propertyNames({ anyOf: toolsOf(definition).map((t) => t.parameters) });
      const task = definition.tasks()[0] ?? kvTask;
      for (const style of RENAME_STYLES) {
        for (const arm of ARMS(style)) {
          for (const seed of [1, 2]) {
            const episode = perturbEpisode({ task, tools: toolsOf(definition), resolved: arm.resolved, seed });
            assert.equal(episode.records.length, arm.resolved.entries.length, `${name} ${arm.name}: all applied`);
            for (const tool of episode.tools) {
              const shown = [...propertyNames(tool.parameters)].filter((key) => originals.has(key));
              if (shown.length > 0) leaks.push(`${name} ${arm.name} seed ${seed}: ${tool.name} shows ${shown.join(', ')}`);
            }
          }
        }
      }
    }
    assert.deepEqual(leaks, []);
  });

  it('keeps every notes and workplace task with nested arguments solvable, its golden solution in the new names', { timeout: 600_000 }, async () => {
    const failures: string[] = [];
    let replayed = 0;
    for (const name of ['notes', 'workplace']) {
      const definition = getEnvironment(name);
      const specs = new Map(toolsOf(definition).map((t) => [t.name, t.parameters]));
      const originals = propertyNames({ anyOf: [...specs.values()] });
      // Tasks whose golden solution passes objects or arrays of objects with named keys (blocks, filters, sorts).
      const nested = definition.tasks().filter((task) =>
        task.golden.steps.some((step) => Object.entries(step.arguments).some(([key, value]) => argumentKeys(value, (specs.get(step.tool)?.properties as JsonObject | undefined)?.[key]).size > 0)),
      );
      assert.ok(nested.length >= 3, `${name}: ${nested.length} tasks with nested arguments`);
      for (const [i, arm] of [...ARMS('synonym'), ...ARMS('opaque').slice(1, 2), ...ARMS('case').slice(2), ...ARMS('namespace').slice(0, 1)].entries()) {
        for (const task of nested) {
          const episode = perturbEpisode({ task, tools: toolsOf(definition), resolved: arm.resolved, seed: 7 + i });
          const shown = new Map(episode.tools.map((t) => [t.name, t.parameters]));
          for (const step of episode.task.golden.steps) {
            const stale = [...argumentKeys(step.arguments, shown.get(step.tool))].filter((key) => originals.has(key));
            if (stale.length > 0) failures.push(`${arm.name} × ${task.id}: ${step.tool} still passes ${stale.join(', ')}`);
          }
          const replay = await replayGolden(definition, episode, { seed: 3 });
          replayed++;
          if (!replay.passed) failures.push(`${arm.name} × ${task.id}: ${replay.problems.join('; ')}`);
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(replayed > 0);
  });

  for (const order of ['alone', 'nest → rename', 'rename → nest'] as const) {
    it(`a call with renamed nested keys reaches the environment with the original ones (${order})`, async () => {
      const definition = getEnvironment('notes');
      const task = definition.tasks().find((t) => t.id === 'notes/add-meeting-action-items')!;
      const arm = ARMS('synonym')[['alone', 'nest → rename', 'rename → nest'].indexOf(order)]!;
      const episode = perturbEpisode({ task, tools: toolsOf(definition), resolved: arm.resolved, seed: 5 });
      const originals = toolsOf(definition);
      const at = (name: string) => originals.findIndex((t) => t.name === name);
      const call = (name: string, args: JsonObject): [string, JsonObject] => {
        const shown = episode.tools[at(name)]!;
        const original = originals[at(name)]!.parameters;
        if (order === 'alone') return [shown.name, translate(args, original, shown.parameters) as JsonObject];
        // Under one wrapper key (renamed with the rest when tools.rename came second).
        const [wrapper] = Object.keys(shown.parameters.properties as JsonObject);
        return [shown.name, { [wrapper!]: translate(args, original, (shown.parameters.properties as JsonObject)[wrapper!]) }];
      };
      const environment = episode.wrapEnvironment(instantiate(definition));
      try {
        await environment.reset(episode.task, { seed: 1 });
        const [appendBlocks, blocks] = call('append_blocks', { page_id: 'pricing-0312', blocks: [{ type: 'todo', text: 'Renamed keys arrive', checked: true }] });
        assert.ok(!JSON.stringify(blocks).includes('"text"'), JSON.stringify(blocks));
        const appended = await environment.call(appendBlocks, blocks, { signal });
        assert.ok(appended.ok, !appended.ok ? appended.error : '');
        const rows = (await environment.snapshot()).blocks as JsonObject[];
        assert.deepEqual(
          rows.filter((r) => r.text === 'Renamed keys arrive').map((r) => [r.type, r.checked]),
          [['todo', 1]],
        );
        // A filter in the new names filters as the original one does (in the world of a task with that database).
        const queryTask = definition.tasks().find((t) => t.id === 'notes/overdue-content-items')!;
        await environment.reset(queryTask, { seed: 1 });
        const filter = { database_id: 'db-content', filter: [{ property: 'Status', operator: 'equals', value: 'Published' }], limit: 25 };
        const plain = instantiate(definition);
        await plain.reset(queryTask, { seed: 1 });
        const expected = await plain.call('query_database', filter, { signal });
        const unfiltered = await plain.call('query_database', { database_id: 'db-content', limit: 25 }, { signal });
        await plain.close();
        const [queryDatabase, query] = call('query_database', filter);
        const got = await environment.call(queryDatabase, query, { signal });
        assert.ok(got.ok && expected.ok && unfiltered.ok, JSON.stringify([got, expected, unfiltered]).slice(0, 600));
        assert.notDeepEqual(expected.data, unfiltered.data, 'the filter filters');
        assert.deepEqual(got.data, expected.data);
        // An original nested name is not understood below, and the error names the new ones.
        const [, stale] = call('append_blocks', { page_id: 'pricing-0312', blocks: [{ type: 'todo' }] });
        const staleArgs = JSON.parse(JSON.stringify(stale).replace(/\{("[^"]+":"todo")\}/, '{$1,"text":"original key"}')) as JsonObject;
        assert.ok(JSON.stringify(staleArgs).includes('"text":"original key"'));
        const refused = await environment.call(appendBlocks, staleArgs, { signal });
        assert.ok(!refused.ok && refused.kind === 'invalid_arguments', JSON.stringify(refused));
        assert.ok(!refused.ok && !/\btext\b|\bblocks\b/.test(refused.error), !refused.ok ? refused.error : '');
      } finally {
        await environment.close();
      }
    });
  }
});

describe('renameLayer at every depth', () => {
  const spec: ToolSpec = {
    name: 'put_value',
    description: 'Store entries.',
    parameters: {
      type: 'object',
      properties: {
        entries: {
          type: 'array',
          items: {
            type: 'object',
            properties: { item_key: { type: 'string' }, tags: { type: 'object', additionalProperties: { type: 'object', properties: { note_text: { type: 'string' } } } } },
            required: ['item_key'],
          },
        },
        pair: { type: 'array', prefixItems: [{ type: 'object', properties: { item_key: { type: 'string' } } }, { $ref: '#/$defs/Note' }] },
        choice: { anyOf: [{ type: 'object', properties: { item_key: { type: 'string' } } }, { type: 'string' }] },
        labels: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: {} },
      },
      $defs: { Note: { type: 'object', properties: { note_text: { type: 'string', description: 'what item_key is for' } } } },
    },
  };
  const params = new Map([
    ['entries', 'records'],
    ['item_key', 'slot'],
    ['tags', 'markers'],
    ['note_text', 'remark'],
    ['pair', 'couple'],
    ['choice', 'option'],
    ['labels', 'stickers'],
  ]);
  const layer = renameLayer([spec], { tools: new Map([['put_value', 'store_value']]), params });
  const original: JsonObject = {
    entries: [{ item_key: 'a', tags: { urgent: { note_text: 'n' } } }],
    pair: [{ item_key: 'b' }, { note_text: 'c' }],
    choice: { item_key: 'd' },
    labels: { item_key: 'kept as written', Status: 'Done' },
  };
  const renamed: JsonObject = {
    records: [{ slot: 'a', markers: { urgent: { remark: 'n' } } }],
    couple: [{ slot: 'b' }, { remark: 'c' }],
    option: { slot: 'd' },
    stickers: { item_key: 'kept as written', Status: 'Done' },
  };

  async function received(args: JsonObject): Promise<JsonObject> {
    let got: JsonObject | undefined;
    await layer.open().call('store_value', args, async (_tool, lowered) => ((got = lowered), { ok: true, content: 'ok' }), { clock: undefined as never, signal });
    assert.ok(got);
    return got;
  }

  it('shows, lifts and lowers names through items, tuples, combinators, additionalProperties and $ref; free-form maps keep their keys', async () => {
    const shown = layer.tools[0]!.parameters;
    assert.deepEqual([...propertyNames(shown)].sort(), ['couple', 'markers', 'option', 'records', 'remark', 'slot', 'stickers']);
    assert.deepEqual(((shown.properties as JsonObject).records as JsonObject).items, {
      type: 'object',
      properties: { slot: { type: 'string' }, markers: { type: 'object', additionalProperties: { type: 'object', properties: { remark: { type: 'string' } } } } },
      required: ['slot'],
    });
    assert.deepEqual((shown.$defs as JsonObject).Note, { type: 'object', properties: { remark: { type: 'string', description: 'what slot is for' } } });
    assert.deepEqual(layer.lift([{ tool: 'put_value', arguments: original }]), [{ tool: 'store_value', arguments: renamed }]);
    assert.deepEqual(await received(renamed), original);
    assert.deepEqual(layer.lower({ tool: 'store_value', arguments: renamed }), { tool: 'put_value', arguments: original });
  });

  it('refuses an original name sent at depth instead of passing it below or running the call without it', async () => {
    let reached = false;
    const outcome = await layer.open().call('store_value', { records: [{ slot: 'a', item_key: 'sneaked in' }], option: { item_key: 'x' } }, async () => ((reached = true), { ok: true, content: 'ok' }), { clock: undefined as never, signal });
    assert.equal(reached, false);
    assert.deepEqual(outcome, {
      ok: false,
      kind: 'invalid_arguments',
      error: 'invalid arguments for store_value:\nrecords.0: an argument this tool does not take; expected one of slot, markers\noption: an argument this tool does not take; expected one of slot',
    });
    // A recorded call is lowered without it, so checks that read the transcript never see it either.
    assert.deepEqual(layer.lower({ tool: 'store_value', arguments: { option: { slot: 'd', item_key: 'x' } } }), { tool: 'put_value', arguments: { choice: { item_key: 'd' } } });
  });

  it('keeps a __proto__ key an own key, never a prototype, at any depth', async () => {
    const open = { ...spec, parameters: { ...spec.parameters, additionalProperties: true } };
    const loose = renameLayer([open], { tools: new Map([['put_value', 'store_value']]), params });
    let got: JsonObject | undefined;
    const args = JSON.parse('{"__proto__": {"item_key": "via the prototype"}, "stickers": {"__proto__": {"polluted": true}}}') as JsonObject;
    await loose.open().call('store_value', args, async (_tool, lowered) => ((got = lowered), { ok: true, content: 'ok' }), { clock: undefined as never, signal });
    assert.ok(got);
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal((got as Record<string, unknown>).item_key, undefined, 'no original name reached below through the prototype');
    assert.ok(Object.hasOwn(got, '__proto__'));
    assert.equal(Object.getPrototypeOf(got.labels), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const lifted = loose.lift([{ tool: 'put_value', arguments: JSON.parse('{"__proto__": {"x": 1}, "entries": [{"__proto__": {"y": 2}}]}') as JsonObject }])[0]!.arguments;
    assert.equal(Object.getPrototypeOf(lifted), Object.prototype);
    assert.ok(Object.hasOwn(lifted, '__proto__'));
  });
});
