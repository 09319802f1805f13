import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InfraError, type ExecOptions, type ExecResult, type Sandbox } from '../../../core/index.ts';
import { createSandbox, sandboxAvailability } from '../../../sandbox/index.ts';
import { runProbes } from './run.ts';
import { parseSuite, type ProbeSuite } from './suite.ts';
import { broken, moduleSource, resilient } from './testdata/probes.mjs';

const { bwrap } = await sandboxAvailability();
const skip = bwrap.available ? false : 'bwrap unavailable';

const suites = { resilient: parseSuite('testdata/resilient.test.mjs', resilient), broken: parseSuite('testdata/broken.test.mjs', broken) };

describe('running probes in the bwrap sandbox', { skip }, () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await createSandbox({ backend: 'bwrap' });
    await sandbox.writeFile('package.json', '{ "type": "module" }\n');
    await sandbox.writeFile('src/m.js', moduleSource);
    await sandbox.writeFile('src/broken.js', 'export const x = ;\n');
  });
  after(() => sandbox.close());

  it('keeps going past probes that hang, exit, leave a rejection behind or flood their console', async () => {
    const run = await runProbes(sandbox, { suites: [suites.resilient, suites.broken], probeTimeoutMs: 1_000 });
    assert.equal(run.total, 8);
    const why = Object.fromEntries(run.failures.map((f) => [f.slice(0, f.indexOf(' (')), f.slice(f.indexOf(' (') + 2, -1)]));
    assert.deepEqual(Object.keys(why).sort(), ['exits', 'hangs', 'imports a module that does not parse', 'rejects later']);
    assert.equal(why.hangs, 'did not finish within 1s');
    assert.equal(why['rejects later'], 'an error escaped it: Error: late');
    assert.match(why.exits ?? '', /^the probe crashed: the worker exited \(code 0\)$/);
    assert.match(why['imports a module that does not parse'] ?? '', /^could not load the code under test: SyntaxError/);
    assert.deepEqual(run.tampering, []);
    assert.equal(run.passed, false);
  });

  it('writes nothing into the work dir', async () => {
    const listing = (await sandbox.listFiles()).map((f) => f.path);
    await runProbes(sandbox, { suites: [suites.broken] });
    assert.deepEqual((await sandbox.listFiles()).map((f) => f.path), listing);
  });
});

/** A sandbox whose exec answers with what `respond` prints, given the marker from the plan on stdin. */
function fakeSandbox(respond: (marker: string) => Partial<ExecResult>): Sandbox {
  return {
    specificationVersion: 'v1',
    backend: 'bwrap',
    workdir: '/work',
    exec: async (_command: string, options: ExecOptions) => {
      const plan = JSON.parse(options.stdin ?? '{}') as { marker: string };
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 1, ...respond(plan.marker) };
    },
    readFile: async () => null,
    writeFile: async () => {},
    listFiles: async () => [],
    close: async () => {},
  };
}

const twoCases: ProbeSuite = parseSuite('x/two.test.mjs', {
  imports: { m: 'src/m.js' },
  cases: [
    { name: 'first', run: () => 1, expect: 1 },
    { name: 'second', run: () => 2, expect: 2 },
  ],
});
const line = (marker: string, body: unknown) => `${marker} ${JSON.stringify(body)}\n`;

describe('reading the runner\'s report', () => {
  it('passes only when every case reported, once, what it expects', async () => {
    const sandbox = fakeSandbox((m) => ({ stdout: line(m, { started: true, probes: 2 }) + line(m, { index: 0, outcome: { kind: 'returned', value: 1 } }) + line(m, { index: 1, outcome: { kind: 'returned', value: 2 } }) }));
    const run = await runProbes(sandbox, { suites: [twoCases] });
    assert.deepEqual({ passed: run.passed, failures: run.failures }, { passed: true, failures: [] });
  });

  it('fails a case reported twice, and notes lines that name no probe or cannot be read', async () => {
    const sandbox = fakeSandbox((m) => ({
      stdout: [
        line(m, { started: true, probes: 2 }),
        line(m, { index: 0, outcome: { kind: 'returned', value: 5 } }),
        line(m, { index: 0, outcome: { kind: 'returned', value: 1 } }),
        line(m, { index: 1, outcome: { kind: 'returned', value: 2 } }),
        line(m, { index: 7, outcome: { kind: 'returned', value: 2 } }),
        `${m} {not json\n`,
      ].join(''),
    }));
    const run = await runProbes(sandbox, { suites: [twoCases] });
    assert.equal(run.passed, false);
    assert.deepEqual(run.failures, ['first (reported more than once)']);
    assert.equal(run.tampering.length, 2);
  });

  it('fails the cases with no result, saying why the run stopped', async () => {
    const sandbox = fakeSandbox((m) => ({ stdout: line(m, { started: true, probes: 2 }) + line(m, { index: 0, outcome: { kind: 'returned', value: 1 } }), timedOut: true, exitCode: 124 }));
    const run = await runProbes(sandbox, { suites: [twoCases], timeoutMs: 5_000 });
    assert.deepEqual(run.failures, ['second (no result: the run hit its 5s limit)']);
  });

  it('ignores lines without this run\'s marker (another run\'s marker included)', async () => {
    const sandbox = fakeSandbox((m) => ({
      stdout: line(m, { started: true, probes: 2 }) + line('@@gauntlet-probe:other', { index: 0, outcome: { kind: 'returned', value: 1 } }) + 'ok 1 - first\n',
    }));
    const run = await runProbes(sandbox, { suites: [twoCases] });
    assert.deepEqual(run.failures, ['first (no result: the runner stopped (exit 0))', 'second (no result: the runner stopped (exit 0))']);
  });

  it('calls a runner that never started a sandbox failure, not a score', async () => {
    const sandbox = fakeSandbox(() => ({ exitCode: 127, stderr: 'bash: node: command not found' }));
    await assert.rejects(runProbes(sandbox, { suites: [twoCases] }), (error: unknown) => error instanceof InfraError && error.source === 'sandbox' && /did not start/.test(error.message));
  });
});
