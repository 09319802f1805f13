import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { processesWithArgument } from '../../../test/support/processes.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { InfraError } from '../../core/index.ts';
import { agentSpec } from './catalogue.ts';
import { agentInstallDir, ensureAgentInstalled } from './install.ts';

/**
 * An npm stand-in: logs each run (and its environment, to `npm-env.log`), then creates the agent's
 * program under --prefix, fails, or hangs with a lifecycle script of its own (`sleep`s carrying `marker`).
 */
function fakeNpm(dir: string, behaviour: 'install' | 'fail' | 'hang', marker = ''): { path: string; runs: () => number; env: () => string } {
  const log = join(dir, 'npm-runs.log');
  writeFileSync(log, '');
  const path = join(dir, 'npm');
  const bodies = {
    fail: `echo "npm error code ENOTFOUND" >&2; echo "npm error request to https://registry.npmjs.org failed" >&2; exit 1`,
    // Like opencode's install script, which runs the program it installed and so creates its XDG folders.
    install: `prefix=""; while [ $# -gt 0 ]; do if [ "$1" = --prefix ]; then prefix="$2"; fi; shift; done; mkdir -p "$prefix/node_modules/.bin"; printf '#!/bin/sh\\n' > "$prefix/node_modules/.bin/pi"; chmod +x "$prefix/node_modules/.bin/pi"; mkdir -p "$XDG_CONFIG_HOME/pi" "$XDG_DATA_HOME/pi" "$XDG_CACHE_HOME/pi" "$XDG_STATE_HOME/pi"`,
    // Like a postinstall script that never ends, with a helper of its own in the background.
    hang: `(exec -a ${marker} sleep 300) & exec -a ${marker} sleep 300`,
  };
  writeFileSync(path, `#!/bin/bash\necho run >> ${JSON.stringify(log)}\nenv > ${JSON.stringify(join(dir, 'npm-env.log'))}\n${bodies[behaviour]}\n`);
  chmodSync(path, 0o755);
  return { path, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length, env: () => readFileSync(join(dir, 'npm-env.log'), 'utf8') };
}

/** Runs `work` with `vars` set in this process's environment, restoring what was there after. */
async function withEnv<T>(vars: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
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

  it('stops the whole npm process tree when the install times out: no lifecycle script is left running', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const marker = `gauntlet-npm-hang-${process.pid}`;
    const npm = fakeNpm(dir, 'hang', marker);
    const cacheDir = join(dir, 'cache');
    const install = ensureAgentInstalled(pi, { cacheDir, npm: npm.path, timeoutMs: 1_000 });
    await assert.rejects(install, (error: unknown) => error instanceof InfraError && /timed out after 1000 ms/.test(error.message));
    await waitFor(() => processesWithArgument(marker).length === 0, `no ${marker} process left`);
    assert.deepEqual(readdirSync(cacheDir), []);
  });

  it('runs npm (and the package\'s install scripts) without the operator\'s tokens and provider keys, with what npm needs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const npm = fakeNpm(dir, 'install');
    const secrets = { GAUNTLET_TOKEN: 'gauntlet-secret-1', OPENAI_API_KEY: 'sk-secret-2', GAUNTLET_SANDBOX_TOKEN: 'sandbox-secret-3', AWS_SECRET_ACCESS_KEY: 'aws-secret-4' };
    const kept = { npm_config_registry: 'http://127.0.0.1:9/registry/', HTTPS_PROXY: 'http://127.0.0.1:9' };
    await withEnv({ ...secrets, ...kept }, () => ensureAgentInstalled(pi, { cacheDir: join(dir, 'cache'), npm: npm.path }));
    const env = npm.env();
    for (const value of Object.values(secrets)) assert.ok(!env.includes(value), `npm saw ${value}`);
    for (const [name, value] of Object.entries(kept)) assert.ok(env.includes(`${name}=${value}`), `npm lacks ${name}`);
    assert.match(env, /^PATH=/m);
    assert.match(env, /^HOME=/m);
  });

  it('gives the install scripts a scratch XDG base, not the operator\'s, and removes it afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const npm = fakeNpm(dir, 'install');
    const operator = join(dir, 'operator');
    const names = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME'];
    await withEnv(Object.fromEntries(names.map((name) => [name, join(operator, name)])), () => ensureAgentInstalled(pi, { cacheDir: join(dir, 'cache'), npm: npm.path }));
    const seen = Object.fromEntries(npm.env().split('\n').filter((line) => names.some((name) => line.startsWith(`${name}=`))).map((line) => line.split(/=(.*)/s, 2) as [string, string]));
    assert.deepEqual(Object.keys(seen).sort(), [...names].sort());
    const scratch = dirname(seen.XDG_CONFIG_HOME!);
    for (const name of names) assert.equal(dirname(seen[name]!), scratch, `${name} is in the scratch folder`);
    assert.ok(!scratch.startsWith(operator));
    assert.equal(existsSync(operator), false, 'nothing was created in the operator\'s XDG folders');
    assert.equal(existsSync(scratch), false, 'the scratch folder is gone');
    assert.deepEqual(readdirSync(join(dir, 'cache')), ['@mariozechner+pi-coding-agent@0.73.1']);
  });

  it('clears staging folders a killed install left behind, instead of keeping them for ever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-install-'));
    const npm = fakeNpm(dir, 'install');
    const cacheDir = join(dir, 'cache');
    const target = agentInstallDir(pi, cacheDir);
    // A process killed mid-install (pid 2^22 + 1: none can hold it) left its half-written staging folder.
    mkdirSync(join(`${target}.staging-4194305`, 'node_modules', 'half'), { recursive: true });
    const result = await ensureAgentInstalled(pi, { cacheDir, npm: npm.path });
    assert.equal(result.installed, true);
    assert.deepEqual(readdirSync(cacheDir), ['@mariozechner+pi-coding-agent@0.73.1']);
  });
});
