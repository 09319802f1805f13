// `npm run bench -- SUITE [its flags]`: a suite's own flags reach it, and a name that is no suite
// is refused instead of running nothing and reporting "0 of 0 met".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const INDEX = fileURLToPath(new URL('../bench/index.ts', import.meta.url));

function bench(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', INDEX, ...args], { encoding: 'utf8' });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

describe('npm run bench', () => {
  it('passes a suite its own flags: env-cost --env mail --rollouts 2 measures mail alone, 2 episodes', () => {
    const { status, out, err } = bench('env-cost', '--env', 'mail', '--rollouts', '2', '--json');
    assert.equal(status, 0, err);
    const { results } = JSON.parse(out) as { results: { suite: string; figures: { name: string }[] }[] };
    assert.deepEqual(results.map((r) => r.suite), ['env-cost']);
    const names = results[0]!.figures.map((f) => f.name);
    assert.ok(names.length > 0 && names.every((name) => name.startsWith('mail (2 episodes')), names.join('\n'));
  });

  it('refuses a misspelt suite, naming the known ones, and runs nothing', () => {
    const { status, out, err } = bench('env-cots');
    assert.equal(status, 2);
    assert.equal(out, '');
    assert.match(err, /^bench: unknown suite "env-cots" \(expected one of harness, throughput, .*env-cost.*\)$/m);
  });

  it('refuses flags for a suite that takes none, or for several suites at once', () => {
    const none = bench('harness', '--rollouts', '3');
    assert.equal(none.status, 2);
    assert.match(none.err, /suite harness takes no flags of its own, given --rollouts 3 \(suites that do: env-cost, throughput\)/);
    const several = bench('env-cost', 'throughput', '--rollouts', '3');
    assert.equal(several.status, 2);
    assert.match(several.err, /a suite's own flags go with that one suite/);
    assert.equal(several.out, '');
  });

  it('fails, exit non-zero, when the suite refuses one of its flags', () => {
    const { status, err } = bench('env-cost', '--rollouts', 'lots');
    assert.equal(status, 1);
    assert.match(err, /--rollouts: 'lots' is not a positive integer/);
  });
});
