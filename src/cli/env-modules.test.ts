// Environments loaded from an author's own files (--env-module, GAUNTLET_ENV_MODULES): validated,
// run and served like the built-in ones, refused with the file named when they cannot be, and given
// the running Gauntlet (not a second copy) when they import it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliBundleFile } from '../../bin/cli-bundle.js';
import { cli } from '../../test/support/cli.ts';
import { InputError, type Run } from '../core/index.ts';
import { environmentNames } from '../envs/index.ts';
import { seededWorldCounts } from '../envs/images.ts';
import { RolloutThreads } from '../runner/threads/threads.ts';
import { openStore } from '../store/index.ts';
import { refuseUnknownEnvironments } from './env-modules.ts';
import type { CliIo } from './io.ts';
import { createProgram } from './program.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PANTRY = join(ROOT, 'test', 'fixtures', 'env-module', 'pantry.ts');
const dir = mkdtempSync(join(tmpdir(), 'gauntlet-env-modules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file under the test's folder, written now; outside any package, so TypeScript there compiles to CommonJS. */
function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A script whose only tool call asks for an item the pantry does not hold, so the tool throws ToolError. */
const missingItemScript = () =>
  write(
    'saffron.yaml',
    `model: pantry-script
turns:
  - toolCalls:
      - name: use_item
        arguments: { name: saffron, quantity: 1 }
  - content: There is no saffron.
`,
  );

interface Summary {
  runId: string;
  rollouts: number;
  scored: number;
  passed: number;
  errors: number;
  infraErrors: number;
}

/** The tool results a rollout's events record. */
async function toolResults(runId: string, store: string): Promise<{ ok: boolean; content: string }[]> {
  const shown = await cli(['show', runId, '--store', store, '--json']);
  const rolloutId = (JSON.parse(shown.out) as { rollouts: { id: string }[] }).rollouts[0]!.id;
  const trajectory = await cli(['show', runId, '--rollout', rolloutId, '--store', store, '--json']);
  const events = (JSON.parse(trajectory.out) as { events: { type: string; data: { ok: boolean; content: string } }[] }).events;
  return events.filter((e) => e.type === 'tool_result').map(({ data }) => ({ ok: data.ok, content: data.content }));
}

/** `text` matched literally inside a RegExp. */
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs `command`, noting each start of rollout threads (how many, and the modules they were told to load). */
async function watchingThreads<T>(command: () => Promise<T>): Promise<{ result: T; inits: { count: number; environmentModules: string[] | undefined }[] }> {
  const inits: { count: number; environmentModules: string[] | undefined }[] = [];
  const start = RolloutThreads.start;
  RolloutThreads.start = (options) => {
    inits.push({ count: options.count, environmentModules: options.init.environmentModules });
    return start.call(RolloutThreads, options);
  };
  try {
    return { result: await command(), inits };
  } finally {
    RolloutThreads.start = start;
  }
}

describe('--env-module', () => {
  it('loads a TypeScript environment that validate proves: golden solutions pass, and a wrong golden is named', async () => {
    const valid = await cli(['validate', '--env', 'pantry', '--env-module', PANTRY]);
    assert.equal(valid.code, 0, valid.err);
    assert.match(valid.out, /^pantry: 2\/2 tasks valid$/m);

    const wrongGolden = write(
      'wrong-golden.yaml',
      `tasks:
  - id: mine/short-of-flour
    env: pantry
    tags: { domain: cooking, difficulty: easy }
    instruction: Use 2 flour.
    verifier:
      checks:
        - { check: item_used, name: flour, quantity: 2 }
    golden:
      steps:
        - { tool: use_item, arguments: { name: flour, quantity: 1 } }
`,
    );
    const invalid = await cli(['validate', '--tasks-file', wrongGolden, '--env-module', PANTRY]);
    assert.equal(invalid.code, 1, invalid.err);
    assert.match(invalid.out, /INVALID mine\/short-of-flour/);
  });

  it('runs it: the oracle passes every task, doing nothing passes none', async () => {
    const store = join(dir, 'floor-ceiling.db');
    const oracle = await cli(['run', '--env', 'pantry', '--env-module', PANTRY, '--model', 'oracle', '--store', store, '--json']);
    assert.equal(oracle.code, 0, oracle.err);
    const ceiling = JSON.parse(oracle.out) as Summary;
    assert.deepEqual([ceiling.rollouts, ceiling.scored, ceiling.passed, ceiling.errors], [2, 2, 2, 0]);
    const noop = await cli(['run', '--env', 'pantry', '--env-module', PANTRY, '--model', 'noop', '--store', store, '--json']);
    assert.equal(noop.code, 0, noop.err);
    const floor = JSON.parse(noop.out) as Summary;
    assert.deepEqual([floor.scored, floor.passed, floor.errors], [2, 0, 0]);
  });

  it("gives the module the running Gauntlet: its ToolError reaches the agent as a tool error, not an environment crash", async () => {
    const store = join(dir, 'tool-error.db');
    const run = await cli(['run', '--env', 'pantry', '--task', 'pantry/bake', '--env-module', PANTRY, '--model', `scripted:${missingItemScript()}`, '--store', store, '--json']);
    assert.equal(run.code, 0, run.err);
    const summary = JSON.parse(run.out) as Summary;
    assert.deepEqual([summary.scored, summary.errors, summary.infraErrors], [1, 0, 0], run.out);
    assert.deepEqual(await toolResults(summary.runId, store), [{ ok: false, content: 'Error: no item named "saffron" in the pantry (it holds flour, sugar, rice, lentils)' }]);
  });

  it('refuses a module that cannot define environments, naming the file: exit 2, never a stack', async () => {
    const cases: { name: string; file: string; problem: RegExp }[] = [
      { name: 'missing file', file: join(dir, 'nowhere.ts'), problem: /nowhere\.ts: no such file/ },
      { name: 'no environment', file: write('nothing.ts', 'export type Nothing = never;\n'), problem: /nothing\.ts: exports no environment/ },
      { name: 'only helpers exported', file: write('helper.ts', 'export const answer = 42;\nexport const later = Promise.resolve(1);\n'), problem: /helper\.ts: exports no environment \(it exports "answer" \(a number\), "later" \(a promise: await it where it is exported\)\)/ },
      {
        name: 'a named export meant as an environment',
        file: write('half-named.ts', "export const half = { name: 'half', tools: {} };\n"),
        problem: /half-named\.ts: export "half" is not an environment definition: description: missing/,
      },
      {
        name: 'an incomplete definition',
        file: write('incomplete.mjs', "export default { name: 'half', description: 'no tools', schema: '', startTime: '2026-01-01T00:00:00Z' };\n"),
        problem: /incomplete\.mjs: export "default" is not an environment definition: seed: expected a function/,
      },
      { name: 'syntax error', file: write('broken.ts', 'export const = ;\n'), problem: /broken\.ts: cannot be loaded: .*broken\.ts:1:\d+/ },
      { name: 'missing import', file: write('missing-import.mts', "import { nothing } from './not-here.ts';\nexport default nothing;\n"), problem: /missing-import\.mts: cannot be loaded: .*not-here/ },
      { name: 'throws at top level', file: write('throws.ts', "throw new Error('the pantry is on fire');\n"), problem: /throws\.ts: cannot be loaded: the pantry is on fire/ },
      {
        name: 'a built-in name',
        file: write('mail.ts', `import pantry from ${JSON.stringify(PANTRY)};\nexport default { ...pantry, name: 'mail' };\n`),
        problem: /mail\.ts: export "default" defines environment "mail", which is already defined by Gauntlet's built-in environments/,
      },
      { name: 'a wrong extension', file: write('pantry.json', '{}\n'), problem: /pantry\.json: has the extension "\.json"/ },
    ];
    for (const { name, file, problem } of cases) {
      const { code, err } = await cli(['validate', '--env', 'pantry', '--env-module', file]);
      assert.equal(code, 2, `${name}: ${err}`);
      assert.match(err, new RegExp(`^gauntlet: --env-module ${escaped(file)}`), name);
      assert.match(err, problem, name);
      assert.doesNotMatch(err, /\n\s+at /, `${name}: no stack`);
    }
  });

  it("keeps the seeded worlds of a module that declares them (validate's plays share one), and refuses a misspelt member", async () => {
    const file = write('pantry-worlds.ts', `import pantry from ${JSON.stringify(PANTRY)};\nexport default { ...pantry, seededWorlds: {} };\n`);
    const reused = seededWorldCounts.reused;
    const { code, err } = await cli(['validate', '--env', 'pantry', '--env-module', file]);
    assert.equal(code, 0, err);
    assert.ok(seededWorldCounts.reused > reused, 'no episode opened a kept world');
    const misspelt = write('pantry-restor.ts', `import pantry from ${JSON.stringify(PANTRY)};\nexport default { ...pantry, seededWorlds: { restor: () => {} } };\n`);
    const refused = await cli(['validate', '--env', 'pantry', '--env-module', misspelt]);
    assert.equal(refused.code, 2, refused.err);
    assert.match(refused.err, /pantry-restor\.ts: export "default" is not an environment definition: seededWorlds.*restor/);
  });

  it('refuses a name two modules define, naming both files', async () => {
    const copy = join(dir, 'copy', 'pantry.ts');
    mkdirSync(join(dir, 'copy'), { recursive: true });
    copyFileSync(PANTRY, copy);
    copyFileSync(join(PANTRY, '..', 'pantry-tasks.yaml'), join(dir, 'copy', 'pantry-tasks.yaml'));
    const { code, err } = await cli(['envs', '--env-module', PANTRY, '--env-module', copy]);
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(`--env-module ${copy}: export "default" defines environment "pantry", which is already defined in ${PANTRY}`));
  });

  it('reads GAUNTLET_ENV_MODULES, which flags add to; a CommonJS module gets our zod, so its schemas are checked', async () => {
    // Outside any package: compiled to CommonJS, with no zod of its own to find.
    const lamp = write(
      'lamp/lamp.ts',
      `import { z } from 'zod';
import { defineEnvironment, defineTool } from 'gauntlet';

export const lamp = defineEnvironment({
  name: 'lamp',
  description: 'one lamp to switch',
  schema: 'CREATE TABLE lamps (id TEXT PRIMARY KEY, lit INTEGER NOT NULL)',
  startTime: '2026-01-01T00:00:00Z',
  initialState: z.object({ lamps: z.array(z.string()).optional() }),
  seed: ({ db, task }) => {
    for (const id of (task.initialState.lamps as string[] | undefined) ?? ['hall']) db.prepare('INSERT INTO lamps VALUES (?, 0)').run(id);
  },
  tools: {
    switch_on: defineTool({ description: 'Light a lamp.', input: z.object({ id: z.string() }), run: ({ id }, { db }) => String(db.prepare('UPDATE lamps SET lit = 1 WHERE id = ?').run(id).changes) }),
  },
  checks: {},
  tasks: () => [],
  destructive: () => [],
});
`,
    );
    const misspelt = write(
      'lamp/tasks.yaml',
      `tasks:
  - id: lamp/porch
    env: lamp
    tags: { domain: home, difficulty: easy }
    instruction: Light the porch lamp.
    initialState: { lampz: [porch] }
    verifier: { checks: [{ check: answer_contains, values: [porch] }] }
    golden: { steps: [{ tool: switch_on, arguments: { id: porch } }], answer: porch }
`,
    );
    const env = { GAUNTLET_ENV_MODULES: `${lamp}${delimiter}` };
    const listed = await cli(['envs', '--json', '--env-module', PANTRY], env);
    assert.equal(listed.code, 0, listed.err);
    const names = (JSON.parse(listed.out) as { name: string }[]).map((e) => e.name);
    assert.ok(names.includes('lamp') && names.includes('pantry') && names.includes('mail'), names.join(', '));

    const checked = await cli(['validate', '--tasks-file', misspelt], env);
    assert.equal(checked.code, 1, checked.err);
    assert.match(checked.out, /initialState: unknown key "lampz"/);
  });

  it('keeps the environments to the command that loaded them; a resume without the module says how to load it', async () => {
    const store = join(dir, 'resume.db');
    const first = await cli(['run', '--env', 'pantry', '--env-module', PANTRY, '--model', 'oracle', '--store', store, '--json']);
    assert.equal(first.code, 0, first.err);
    const { runId } = JSON.parse(first.out) as Summary;
    assert.ok(!environmentNames().includes('pantry'), 'released when the command ended');
    const recorded = openStore(store);
    assert.deepEqual(recorded.getRun(runId)?.environmentFiles, { pantry: PANTRY });
    recorded.close();

    // The run recorded the file its environment came from, so the refusal names it.
    const bare = await cli(['run', '--resume', runId, '--store', store]);
    assert.equal(bare.code, 2, bare.err);
    assert.match(bare.err, new RegExp(`--resume: run ${runId} uses environment "pantry", unknown here: the run loaded it from ${escaped(PANTRY)} \\(expected --env-module ${escaped(PANTRY)} beside --resume`));
    // A run stored without that record (an older Gauntlet's) gets the general way to load one.
    const older = { config: { envs: ['pantry', 'mail'] } } as unknown as Run;
    assert.throws(
      () => refuseUnknownEnvironments(older, '--resume', 'run r-old'),
      (error: unknown) => error instanceof InputError && /run r-old uses environment "pantry", unknown here$/.test(error.problem) && /loaded with --env-module FILE or GAUNTLET_ENV_MODULES \(again when resuming/.test(error.expected ?? ''),
    );

    const resumed = await cli(['run', '--resume', runId, '--store', store, '--env-module', PANTRY, '--json']);
    assert.equal(resumed.code, 0, resumed.err);

    const unknown = await cli(['run', '--env', 'pantry', '--model', 'oracle', '--store', store]);
    assert.equal(unknown.code, 2, unknown.err);
    assert.match(unknown.err, /--env: unknown environment "pantry" .*GAUNTLET_ENV_MODULES/);
  });

  it('serves it over OpenEnv: serve-env knows the name once the module is loaded', async () => {
    // Stopped before it serves: a public bind without a token is refused after --env is accepted.
    const served = await cli(['serve-env', '--env', 'pantry', '--env-module', PANTRY, '--host', '0.0.0.0', '--port', '0']);
    assert.equal(served.code, 2, served.err);
    assert.match(served.err, /--token/);
    const without = await cli(['serve-env', '--env', 'pantry', '--host', '0.0.0.0', '--port', '0']);
    assert.match(without.err, /--env: unknown environment "pantry"/);
  });

  it('runs it on rollout threads, which load the same module: the oracle passes every rollout', async () => {
    const store = join(dir, 'threads.db');
    const started = await watchingThreads(() => cli(['run', '--env', 'pantry', '--env-module', PANTRY, '--model', 'oracle', '--epochs', '2', '--threads', '2', '--store', store, '--json']));
    const { code, out, err } = started.result;
    assert.equal(code, 0, err);
    assert.deepEqual(started.inits, [{ count: 2, environmentModules: [PANTRY] }], 'two threads, each told to load the module');
    const summary = JSON.parse(out) as Summary;
    assert.deepEqual([summary.rollouts, summary.scored, summary.passed, summary.errors, summary.infraErrors], [4, 4, 4, 0, 0], out);
  });

  it("gives a rollout thread the running Gauntlet too: the module's ToolError reaches the agent as a tool error", async () => {
    const store = join(dir, 'threads-tool-error.db');
    const started = await watchingThreads(() =>
      cli(['run', '--env', 'pantry', '--task', 'pantry/bake', '--env-module', PANTRY, '--model', `scripted:${missingItemScript()}`, '--threads', '2', '--store', store, '--json']),
    );
    const { code, out, err } = started.result;
    assert.equal(code, 0, err);
    assert.equal(started.inits.length, 1, 'the rollout ran on a thread');
    const summary = JSON.parse(out) as Summary;
    assert.deepEqual([summary.scored, summary.errors, summary.infraErrors], [1, 0, 0], out);
    assert.deepEqual(await toolResults(summary.runId, store), [{ ok: false, content: 'Error: no item named "saffron" in the pantry (it holds flour, sugar, rice, lentils)' }]);
  });

  it('fails the run, naming the file, when a rollout thread cannot load the module: no rollout runs', async () => {
    const mainOnly = write(
      'main-only/pantry.ts',
      `import { isMainThread } from 'node:worker_threads';
import pantry from ${JSON.stringify(PANTRY)};
if (!isMainThread) throw new Error('this pantry opens on the main thread only');
export default pantry;
`,
    );
    const store = join(dir, 'threads-refused.db');
    const { code, err } = await cli(['run', '--env', 'pantry', '--env-module', mainOnly, '--model', 'oracle', '--threads', '2', '--store', store]);
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(`^gauntlet: environment module ${escaped(mainOnly)} in a rollout thread: cannot be loaded: this pantry opens on the main thread only \\(expected a module that loads in a worker thread`));
    assert.doesNotMatch(err, /\n\s+at /, 'no stack');
    const stored = openStore(store);
    try {
      assert.deepEqual(stored.listRuns().flatMap((run) => stored.rollouts(run.id)), [], 'no rollout stored, scored or not');
    } finally {
      stored.close();
    }
  });

  it('is a flag of every command that names, lists, runs or serves environments', () => {
    const io: CliIo = { stdout: () => {}, stderr: () => {}, interactive: false, env: {} };
    const program = createProgram(io);
    const all = program.commands.flatMap((c) => [c, ...c.commands]);
    const taking = all.filter((c) => c.options.some((o) => o.long === '--env-module')).map((c) => c.name());
    for (const name of ['run', 'eval', 'gate', 'validate', 'tasks', 'envs', 'serve-env', 'serve-rollouts', 'export-tasks', 'robustness', 'mcp', 'worker', 'serve']) {
      assert.ok(taking.includes(name), `${name} takes --env-module (those that do: ${taking.join(', ')})`);
    }
  });

  it('works from the bundle the command line normally runs from, with one copy of Gauntlet', () => {
    const store = join(dir, 'bundle.db');
    const result = spawnSync(
      process.execPath,
      ['bin/gauntlet.js', 'run', '--env', 'pantry', '--task', 'pantry/bake', '--env-module', PANTRY, '--model', `scripted:${missingItemScript()}`, '--store', store, '--json'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GAUNTLET_CLI_SOURCES: '', GAUNTLET_ENV_MODULES: '' }, timeout: 180_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.ok(existsSync(cliBundleFile(ROOT)) && !existsSync(`${cliBundleFile(ROOT)}.failed`), 'it ran from the bundle');
    const summary = JSON.parse(result.stdout) as Summary;
    assert.deepEqual([summary.scored, summary.errors, summary.infraErrors], [1, 0, 0], result.stdout);
  });

  it("works on rollout threads started from the bundle: each loads the module and gives it the running Gauntlet", async () => {
    // The fixture, noting each rollout thread that loads it.
    const seen = join(dir, 'loaded-by-threads');
    mkdirSync(seen, { recursive: true });
    const noting = write(
      'noting/pantry.ts',
      `import { writeFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import pantry from ${JSON.stringify(PANTRY)};
if (!isMainThread) writeFileSync(${JSON.stringify(seen)} + '/' + threadId, '');
export default pantry;
`,
    );
    const store = join(dir, 'bundle-threads.db');
    const result = spawnSync(
      process.execPath,
      ['bin/gauntlet.js', 'run', '--env', 'pantry', '--task', 'pantry/bake', '--env-module', noting, '--model', `scripted:${missingItemScript()}`, '--threads', '2', '--store', store, '--json'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GAUNTLET_CLI_SOURCES: '', GAUNTLET_ENV_MODULES: '' }, timeout: 180_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readdirSync(seen).length, 1, 'one rollout thread (one rollout) loaded the module');
    const summary = JSON.parse(result.stdout) as Summary;
    assert.deepEqual([summary.scored, summary.errors, summary.infraErrors], [1, 0, 0], result.stdout);
    assert.deepEqual(await toolResults(summary.runId, store), [{ ok: false, content: 'Error: no item named "saffron" in the pantry (it holds flour, sugar, rice, lentils)' }]);
  });
});
