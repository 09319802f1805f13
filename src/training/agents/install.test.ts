import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InfraError } from '../../core/index.ts';
import { agentSpec } from './catalogue.ts';
import { agentInstallDir, ensureAgentInstalled } from './install.ts';

/** An npm stand-in: logs each run, then creates the agent's program under --prefix (or fails). */
function fakeNpm(dir: string, behaviour: 'install' | 'fail'): { path: string; runs: () => number } {
  const log = join(dir, 'npm-runs.log');
  writeFileSync(log, '');
  const path = join(dir, 'npm');
  const body =
    behaviour === 'fail'
      ? `echo "npm error code ENOTFOUND" >&2; echo "npm error request to https://registry.npmjs.org failed" >&2; exit 1`
      : `prefix=""; while [ $# -gt 0 ]; do if [ "$1" = --prefix ]; then prefix="$2"; fi; shift; done; mkdir -p "$prefix/node_modules/.bin"; printf '#!/bin/sh\\n' > "$prefix/node_modules/.bin/pi"; chmod +x "$prefix/node_modules/.bin/pi"`;
  writeFileSync(path, `#!/bin/bash\necho run >> ${JSON.stringify(log)}\n${body}\n`);
  chmodSync(path, 0o755);
  return { path, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

describe('agent installs', () => {
  const pi = agentSpec('pi');

  it('installs once into <cache>/<package>@<version>, even when asked by several callers at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const npm = fakeNpm(dir, 'install');
    const cacheDir = join(dir, 'cache');
    const results = await Promise.all([1, 2, 3].map(() => ensureAgentInstalled(pi, { cacheDir, npm: npm.path })));
    assert.equal(npm.runs(), 1);
    assert.equal(results.filter((r) => r.installed).length, 1);
    for (const r of results) assert.equal(r.dir, join(cacheDir, '@mariozechner+pi-coding-agent@0.73.1'));
    assert.equal(agentInstallDir(pi, cacheDir), results[0]!.dir);
    // Nothing but the install is left: no lock, no staging folder.
    assert.deepEqual(readdirSync(cacheDir), ['@mariozechner+pi-coding-agent@0.73.1']);
    const again = await ensureAgentInstalled(pi, { cacheDir, npm: npm.path });
    assert.equal(again.installed, false);
    assert.equal(npm.runs(), 1);
  });

  it('reports a failed install as an infrastructure error with npm\'s words, and leaves nothing half-installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const npm = fakeNpm(dir, 'fail');
    const cacheDir = join(dir, 'cache');
    await assert.rejects(ensureAgentInstalled(pi, { cacheDir, npm: npm.path }), (error: unknown) => {
      assert.ok(error instanceof InfraError);
      assert.match(error.message, /could not install external agent pi \(@mariozechner\/pi-coding-agent@0\.73\.1\)/);
      assert.match(error.message, /ENOTFOUND/);
      return true;
    });
    assert.equal(existsSync(agentInstallDir(pi, cacheDir)), false);
    assert.deepEqual(readdirSync(cacheDir), []);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const npm = fakeNpm(dir, 'install');
    const cacheDir = join(dir, 'cache');
    const target = agentInstallDir(pi, cacheDir);
    mkdirSync(cacheDir, { recursive: true });
    // Pid 2^22 + 1 is above Linux's pid_max ceiling: no process can hold it.
    writeFileSync(`${target}.lock`, JSON.stringify({ pid: 4_194_305, at: '2026-01-01T00:00:00Z' }));
    const result = await ensureAgentInstalled(pi, { cacheDir, npm: npm.path });
    assert.equal(result.installed, true);
    assert.equal(existsSync(`${target}.lock`), false);
  });
});
