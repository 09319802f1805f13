// Perturbations against careless and hostile input: specs, suite files, tool schemas and names
// nobody meant to support, and calls a model may make on purpose.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSeededClock, InputError, stableStringify, Task, type Environment, type JsonObject, type ToolOutcome, type ToolSpec } from '../core/index.ts';
import { instantiate } from '../envs/index.ts';
import { buildSuite, loadSuite, perturbEpisode, resolvePerturbations, splitPerturbFlag, SuiteFile, toolsOf, type PerturbedEpisode } from './index.ts';
import { renderAs } from './responses/format.ts';
import { kvEnvironment, kvTask } from './test-env.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../test/support/typescript.ts';

const signal = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'gauntlet-perturb-hostile-'));

const task = Task.parse({ id: 'hostile/1', env: 'kv', instruction: 'Do it. Then more.', verifier: { checks: [] }, golden: { steps: [] }, tags: { domain: 'kv', difficulty: 'easy' } });

/** An environment that offers `tools` and records every call it gets. */
function recording(tools: ToolSpec[]): Environment & { calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  const environment: Environment & { calls: [string, unknown][] } = {
    specificationVersion: 'v1',
    name: 'recording',
    calls,
    clock: createSeededClock('2026-03-16T09:00:00Z'),
    reset: () => Promise.resolve({}),
    tools: () => tools,
    call: (tool, args): Promise<ToolOutcome> => {
      calls.push([tool, args]);
      return Promise.resolve({ ok: true, content: 'done' });
    },
    snapshot: () => Promise.resolve({}),
    verify: () => Promise.resolve({ passed: true, score: 1, checks: [] }),
    destructiveActions: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
  return environment;
}

function perturb(specs: string[], tools: ToolSpec[]): PerturbedEpisode {
  return perturbEpisode({ task, tools, resolved: resolvePerturbations(specs), seed: 1 });
}

function tool(name: string, properties: JsonObject, extra: JsonObject = {}): ToolSpec {
  return { name, description: 'A tool.', parameters: { type: 'object', properties, ...extra } };
}

function suiteError(yaml: string): InputError {
  const path = join(dir, `suite-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, yaml);
  try {
    loadSuite(path);
  } catch (error) {
    assert.ok(error instanceof InputError, `an InputError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${JSON.stringify(yaml.slice(0, 60))} was accepted`);
}

describe('perturbation specs from careless hands', () => {
  it('refuses a --perturb value that holds no perturbation instead of running unperturbed', () => {
    for (const value of ['', '   ', ',', ' , ']) {
      assert.throws(() => splitPerturbFlag(value), (e: unknown) => e instanceof InputError && e.where === '--perturb' && /no perturbation/.test(e.message), JSON.stringify(value));
    }
    assert.deepEqual(splitPerturbFlag('tools.rename,,prompts.system'), ['tools.rename', 'prompts.system']);
  });

  it('shows invisible and look-alike characters in an unknown id, so the hint does not repeat what was typed', () => {
    assert.throws(
      () => resolvePerturbations(['\u200btools.rename'], '--perturb'),
      (e: unknown) => e instanceof InputError && e.message.includes('unknown perturbation "\\u200btools.rename" — did you mean tools.rename?'),
    );
    assert.throws(() => resolvePerturbations(['ｔools.rename']), (e: unknown) => e instanceof InputError && e.message.includes('"\\uff54ools.rename"'));
    assert.throws(() => resolvePerturbations(['TOOLS.RENAME']), (e: unknown) => e instanceof InputError && /did you mean tools\.rename\?/.test(e.message));
  });

  it('cuts a very long spec in its error rather than echoing all of it', () => {
    const long = `tools.${'x'.repeat(100_000)}`;
    assert.throws(
      () => resolvePerturbations([long]),
      (e: unknown) => e instanceof InputError && e.problem.length < 300 && e.problem.includes('(100006 characters)'),
    );
  });

  it('names a stray bare value as a mistyped perturbation, not as a parameter given twice', () => {
    assert.throws(
      () => resolvePerturbations(splitPerturbFlag('tools.rename:style=case,reorder'), '--perturb'),
      (e: unknown) => e instanceof InputError && /"reorder" is neither a value of a tools\.rename parameter nor a perturbation id/.test(e.message) && !/twice/.test(e.message),
    );
    // A bare value that is a choice still sets its parameter.
    assert.deepEqual(resolvePerturbations(['tools.rename:parameters=false,opaque']).specs, [{ id: 'tools.rename', params: { parameters: false, style: 'opaque' } }]);
  });
});

describe('mistyped parameters', () => {
  it('suggests the parameter name or the choice a typo meant', () => {
    for (const [spec, hint] of [
      ['tools.rename:stlye=opaque', 'did you mean style for "stlye"?'],
      ['tools.rename:style=opaq', 'did you mean style=opaque?'],
      ['tools.rename:style=Opaque', 'did you mean style=opaque?'],
      ['prompts.system:lanugage', 'did you mean variant=language?'],
      ['responses.format:as=tabel', 'did you mean as=table?'],
    ] as const) {
      assert.throws(() => resolvePerturbations([spec], '--perturb'), (e: unknown) => e instanceof InputError && e.problem.includes(hint), spec);
    }
    // Nothing near: no guess.
    assert.throws(() => resolvePerturbations(['tools.rename:style=zzzzzzzz']), (e: unknown) => e instanceof InputError && !/did you mean/.test(e.message));
  });
});

describe('suite files from careless and hostile hands', () => {
  it('places a bad arm, a clash and a mistyped key or held-out family on their own line, with a did-you-mean', () => {
    const lines = (body: string) => `name: typos\nseeds: [1]\n${body}`;
    const bad = suiteError(lines('arms:\n  - tools.reorder\n  - tools.rename:stlye=opaque\n'));
    assert.match(bad.where, /suite-\w+\.yaml:5: arms\.1 \(tools\.rename\)$/);
    assert.match(bad.problem, /did you mean style for "stlye"\?/);
    const clash = suiteError(lines('axes:\n  a: [tools.reorder]\n  b:\n    - tools.describe\n    - scaffold.tools + scaffold.thinking\n'));
    assert.match(clash.where, /suite-\w+\.yaml:7: axes\.b\.1$/);
    const held = suiteError(lines('arms: [tools.rename]\nheldOut:\n  - tools\n  - respones\n'));
    assert.match(held.message, /\.yaml:6: heldOut\.1: "respones" is neither a perturbation family nor a perturbation id — did you mean responses\?/);
    assert.match(suiteError(lines('arms: [tools.rename]\nheldout: [responses]\n')).message, /\.yaml:4: field \(suite\): Unrecognized key: "heldout" — did you mean heldOut\?/);
  });

  it('refuses an arm or axis value that is blank or an empty piece of a + list', () => {
    for (const value of ['" "', '"+"', '"tools.rename+"', '"tools.rename+ +tools.reorder"']) {
      const error = suiteError(`arms: [tools.reorder, ${value}]\n`);
      assert.match(error.message, /arms\.1: an empty perturbation in/, value);
    }
    assert.match(suiteError('axes:\n  a: [tools.rename, " "]\n').message, /axes\.a\.1: an empty perturbation/);
    assert.throws(() => buildSuite(SuiteFile.parse({ arms: [['tools.rename', ' ']] })), /arms\.0: an empty perturbation in " "/);
  });

  it('refuses a suite of more arms than it can report on before building them', () => {
    const values = (n: number, spec: (i: number) => string) => `[${Array.from({ length: n }, (_, i) => JSON.stringify(spec(i))).join(', ')}]`;
    const crossed = `cross: true\naxes:\n  cut: ${values(3000, (i) => `responses.truncate:maxChars=${200 + i}`)}\n  size: ${values(3000, (i) => `environment.size:scale=${(0.25 + i / 1000).toFixed(3)}`)}\n`;
    const started = Date.now();
    const error = suiteError(crossed);
    assert.ok(Date.now() - started < 5_000, 'refused before 9 million arms were built');
    assert.match(error.message, /9000000 arms \(cut 3000 × size 3000\)/);
    assert.match(error.expected ?? '', /at most 1000 arms/);
    assert.match(suiteError(`arms: ${values(1001, (i) => `responses.truncate:maxChars=${200 + i}`)}\n`).message, /1001 arms \(1001 written\)/);
    assert.equal(buildSuite(SuiteFile.parse({ arms: Array.from({ length: 1000 }, (_, i) => `responses.truncate:maxChars=${200 + i}`) })).arms.length, 1000);
  });

  it('reports a YAML alias bomb as a bad suite file, not a crash', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`), 'arms: [tools.rename]'].join('\n');
    const error = suiteError(bomb);
    assert.match(error.message, /not a usable YAML document/);
  });
});

describe('tool names and schemas nobody planned for', () => {
  it('renames a tool or parameter called constructor (a word, not Object’s)', () => {
    const episode = perturb(['tools.rename'], [tool('constructor', { constructor: { type: 'string' } })]);
    const [renamed] = episode.tools;
    assert.ok(renamed && renamed.name !== 'constructor' && /^[A-Za-z0-9_.-]{1,64}$/.test(renamed.name), renamed?.name);
    assert.deepEqual(Object.keys(renamed.parameters.properties as JsonObject).length, 1);
    assert.ok(!('constructor' in (renamed.parameters.properties as JsonObject) && Object.hasOwn(renamed.parameters.properties as JsonObject, 'constructor')));
  });

  it('offers only tool names the OpenAI and Anthropic APIs accept, in every style, even for dotted and 64-character originals', async () => {
    const wire = /^[a-zA-Z0-9_-]{1,64}$/;
    const specs = [tool('github.search_issues', { q: { type: 'string' } }), tool(`send_${'x'.repeat(59)}`, {}), tool('send_message', { to: { type: 'string' } })];
    for (const style of ['synonym', 'opaque', 'case', 'namespace']) {
      const episode = perturb([`tools.rename:${style}`, 'tools.distractors:count=12', 'responses.truncate'], specs);
      for (const shownSpec of episode.tools) assert.match(shownSpec.name, wire, style);
      // The renamed dotted tool still reaches the environment under its own name.
      const inner = recording(specs);
      await episode.wrapEnvironment(inner).call(episode.tools[0]!.name, { [Object.keys(episode.tools[0]!.parameters.properties as JsonObject)[0]!]: 'bug' }, { signal });
      assert.deepEqual(inner.calls, [['github.search_issues', { q: 'bug' }]], style);
    }
  });

  it('renames parameters whose names hold characters a name may not (unicode, spaces) in every style, and maps calls back', async () => {
    const spec = tool('set_field', { café: { type: 'string' }, 'first name': { type: 'string' }, 'ü': { type: 'string' } });
    for (const style of ['synonym', 'opaque', 'case', 'namespace']) {
      const episode = perturb([`tools.rename:style=${style}`], [spec]);
      const shownNames = Object.keys(episode.tools[0]!.parameters.properties as JsonObject);
      assert.equal(shownNames.length, 3, style);
      for (const name of shownNames) assert.match(name, /^[A-Za-z0-9_.-]{1,64}$/, `${style}: ${name}`);
      const inner = recording([spec]);
      const environment = episode.wrapEnvironment(inner);
      await environment.call(episode.tools[0]!.name, Object.fromEntries(shownNames.map((n, i) => [n, `v${i}`])), { signal });
      assert.deepEqual(inner.calls, [['set_field', { café: 'v0', 'first name': 'v1', ü: 'v2' }]], style);
    }
  });

  it('leaves an empty string in an error alone when a parameter is named ""', async () => {
    const spec = tool('set_x', { '': { type: 'string' }, value: { type: 'string' } });
    const episode = perturb(['tools.rename'], [spec]);
    const inner = recording([spec]);
    inner.call = () => Promise.resolve({ ok: false, kind: 'invalid_arguments', error: 'value: expected a word, got "" instead' });
    const outcome = await episode.wrapEnvironment(inner).call(episode.tools[0]!.name, {}, { signal });
    assert.ok(!outcome.ok && outcome.error.endsWith('got "" instead'), JSON.stringify(outcome));
  });

  it('follows a $ref into a renamed property, so nested keys still reach the environment in its own names', async () => {
    const spec = tool('put_item', { item: { type: 'object', properties: { title: { type: 'string' } } }, copy: { $ref: '#/properties/item' } });
    const episode = perturb(['tools.rename'], [spec]);
    const shownSpec = episode.tools[0]!;
    const properties = shownSpec.parameters.properties as Record<string, JsonObject>;
    const [itemName, copyName] = Object.keys(properties);
    assert.equal(properties[copyName!]!.$ref, `#/properties/${itemName}`);
    const titleName = Object.keys(properties[itemName!]!.properties as JsonObject)[0]!;
    const inner = recording([spec]);
    await episode.wrapEnvironment(inner).call(shownSpec.name, { [copyName!]: { [titleName]: 'hello' } }, { signal });
    assert.deepEqual(inner.calls, [['put_item', { copy: { title: 'hello' } }]]);
  });
});

describe('a model that still uses the original names', () => {
  async function renamedKv() {
    const episode = perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(['tools.rename']), seed: 1 });
    const environment = episode.wrapEnvironment(instantiate(kvEnvironment));
    await environment.reset(episode.task, { seed: 1 });
    const put = episode.tools.find((t) => t.description.startsWith('Store a value'))!;
    const list = episode.tools.find((t) => t.description.startsWith('List every key'))!;
    return { environment, put, list, shownNames: Object.keys(put.parameters.properties as JsonObject) };
  }

  it('refuses an original parameter name, listing the shown ones, instead of running the call without it', async () => {
    const { environment, put, list, shownNames } = await renamedKv();
    const [key, value] = shownNames;
    // `pinned` is optional: dropped, the call would store an unpinned value and say it was done.
    const outcome = await environment.call(put.name, { [key!]: 'alpha', [value!]: 'one', pinned: true }, { signal });
    assert.ok(!outcome.ok && outcome.kind === 'invalid_arguments', JSON.stringify(outcome));
    assert.equal(outcome.error, `invalid arguments for ${put.name}:\nan argument this tool does not take; expected one of ${shownNames.join(', ')}`);
    const listed = await environment.call(list.name, {}, { signal });
    assert.ok(listed.ok && !listed.content.includes('alpha'), 'nothing was stored');
    await environment.close();
  });

  it('lists the shown parameter names, never the original ones, when the environment refuses an unknown key', async () => {
    const { environment, put, shownNames } = await renamedKv();
    const outcome = await environment.call(put.name, { [shownNames[0]!]: 'alpha', [shownNames[1]!]: 'one', colour: 'red' }, { signal });
    assert.ok(!outcome.ok, JSON.stringify(outcome));
    assert.match(outcome.error, new RegExp(`unknown key "colour"; expected one of ${shownNames.join(', ')}$`));
    for (const original of ['item_key', 'value', 'mode', 'pinned']) assert.doesNotMatch(outcome.error, new RegExp(`\\b${original}\\b`), original);
    await environment.close();
  });
});

describe('tools added after a rename', () => {
  it('never bring a renamed-away tool or parameter name back into view (a distractor’s time_zone, a read-on tool’s cursor)', async () => {
    const specs = [tool('list_events', { time_zone: { type: 'string' }, cursor: { type: 'string' } }), tool('calculate', { expression: { type: 'string' } })];
    const originals = ['list_events', 'time_zone', 'cursor', 'calculate', 'expression'];
    for (const seed of [1, 2, 3]) {
      const episode = perturbEpisode({ task, tools: specs, resolved: resolvePerturbations(['tools.rename', 'tools.distractors:count=12', 'responses.truncate:maxChars=200']), seed });
      const seen = JSON.stringify(episode.tools);
      for (const name of originals) assert.doesNotMatch(seen, new RegExp(`"${name}"`), `seed ${seed}: ${name}`);
      // The read-on tool still reads on under its own parameter name.
      const inner = recording(specs);
      inner.call = () => Promise.resolve({ ok: true, content: 'x'.repeat(450) });
      const environment = episode.wrapEnvironment(inner);
      const cut = await environment.call(episode.tools[0]!.name, {}, { signal });
      const next = cut.ok ? /Call (\w+) with (\{.*\}) to continue/.exec(cut.content) : null;
      assert.ok(next, JSON.stringify(cut));
      const rest = await environment.call(next[1]!, JSON.parse(next[2]!) as JsonObject, { signal });
      assert.ok(rest.ok && rest.content.startsWith('x'.repeat(200)), JSON.stringify(rest));
    }
  });
});

describe('distractor tools against a hostile model', () => {
  async function distracted() {
    const episode = perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(['tools.distractors:count=12']), seed: 1 });
    const environment = episode.wrapEnvironment(instantiate(kvEnvironment));
    await environment.reset(episode.task, { seed: 1 });
    return environment;
  }

  it('answers unit names that are Object’s own properties as unknown units, never a crash or a made-up number', async () => {
    const environment = await distracted();
    for (const [from, to] of [
      ['constructor', 'constructor'],
      ['toString', 'toString'],
      ['__proto__', 'm'],
      ['m', 'hasOwnProperty'],
    ]) {
      const outcome = await environment.call('convert_units', { value: 1, from, to }, { signal });
      assert.ok(!outcome.ok && outcome.kind === 'tool_error' && /unknown unit/.test(outcome.error), `${from} → ${to}: ${JSON.stringify(outcome)}`);
    }
    await environment.close();
  });

  it('says a calculation overflowed rather than answering null', async () => {
    const environment = await distracted();
    const outcome = await environment.call('calculate', { expression: '1e308 * 10' }, { signal });
    assert.ok(!outcome.ok && /too large/.test(outcome.error), JSON.stringify(outcome));
    const huge = await environment.call('convert_units', { value: 1e308, from: 'mi', to: 'mm' }, { signal });
    assert.ok(!huge.ok && /too large/.test(huge.error), JSON.stringify(huge));
    await environment.close();
  });
});

describe('results nobody formats by hand', () => {
  it('escapes every line break character in a table cell, losing none', () => {
    const table = renderAs('table', [{ note: 'a\rb' }, { note: 'a\r\nb' }, { note: 'a\nb' }]);
    assert.ok(!table.includes('\r'), 'no raw carriage return ends a row');
    assert.deepEqual(table.split('\n').slice(2), ['| a\\rb |', '| a\\r\\nb |', '| a\\nb |']);
  });
});

describe('requests with whitespace that matters', () => {
  it('keeps two spaces and a no-break space inside the request’s own words when splitting or listing it', async () => {
    const instruction = 'Store "two  spaces" under alpha.   Then store "10\u00a0000" under beta.\tThen submit.';
    const spaced = Task.parse({ ...kvTask, instruction });
    const split = perturbEpisode({ task: spaced, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(['prompts.split:parts=3']), seed: 1 });
    const environment = split.wrapEnvironment(instantiate(kvEnvironment));
    await environment.reset(split.task, { seed: 1 });
    const parts = [split.task.instruction, await environment.followUp?.('ok', 1), await environment.followUp?.('ok', 2)].join('\n');
    await environment.close();
    assert.ok(parts.includes('"two  spaces"') && parts.includes('"10\u00a0000"'), JSON.stringify(parts));
    const listed = perturbEpisode({ task: spaced, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(['prompts.paraphrase:bulleted']), seed: 1 }).task.instruction;
    assert.equal(listed, 'Please handle the following:\n1. Store "two  spaces" under alpha.\n2. Then store "10\u00a0000" under beta.\n3. Then submit.');
  });
});

describe('determinism across processes', () => {
  it('gives the same perturbed episode byte for byte in a fresh process, and another for another seed', () => {
    const specs = ['tools.schema:nest', 'tools.rename:opaque', 'tools.describe', 'tools.distractors:count=6', 'tools.reorder', 'responses.transient', 'responses.truncate', 'prompts.system:language', 'prompts.paraphrase', 'prompts.split'];
    const fingerprint = (seed: number) => {
      const episode = perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(specs), seed });
      return stableStringify({ task: episode.task, tools: episode.tools, settings: episode.settings, records: episode.records });
    };
    const script = [
      "import { stableStringify } from './src/core/index.ts';",
      "import { perturbEpisode, resolvePerturbations, toolsOf } from './src/perturb/index.ts';",
      "import { kvEnvironment, kvTask } from './src/perturb/test-env.ts';",
      `const episode = perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(${JSON.stringify([...specs].reverse())}), seed: 7 });`,
      'process.stdout.write(stableStringify({ task: episode.task, tools: episode.tools, settings: episode.settings, records: episode.records }));',
    ].join('\n');
    const other = execFileSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
    assert.equal(other, fingerprint(7));
    assert.notEqual(other, fingerprint(8));
  });
});

describe('scaffold.budget under a run’s own turn limit', () => {
  it('scales the turn limit the run gives (--max-turns), not the task’s', () => {
    const resolved = resolvePerturbations(['scaffold.budget:turns=2']);
    const byTask = perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved, seed: 1 });
    assert.equal(byTask.settings.maxTurns, kvTask.limits.maxTurns * 2);
    const byRun = perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved, seed: 1, maxTurns: 7 });
    assert.equal(byRun.settings.maxTurns, 14);
    // Settings are only what perturbations changed: the run's limit is not echoed back.
    assert.deepEqual(perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(['tools.rename']), seed: 1, maxTurns: 7 }).settings, {});
  });
});
