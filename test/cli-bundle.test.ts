// The command line runs from a bundle of its sources, named by their digest: any edit names a new
// one (a stale bundle never runs), and what the bundle does is what the sources do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliBundleFile, sourceStamp } from '../bin/cli-bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function gauntlet(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/gauntlet.js', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SOURCES = { GAUNTLET_CLI_SOURCES: '1' };

describe('the command line bundle', () => {
  it('is named by every source file but the tests: an edit, a new file or a touch names a new one', () => {
    const root = mkdtempSync(join(tmpdir(), 'gauntlet-stamp-'));
    try {
      mkdirSync(join(root, 'src', 'deep'), { recursive: true });
      writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
      writeFileSync(join(root, 'src', 'deep', 'b.ts'), 'export const b = 2;\n');
      writeFileSync(join(root, 'src', 'deep', 'b.test.ts'), 'test\n');
      const first = sourceStamp(root);
      assert.match(first, /^[0-9a-f]{16}$/);
      assert.equal(sourceStamp(root), first, 'the same sources, the same name');
      writeFileSync(join(root, 'src', 'deep', 'b.test.ts'), 'another test\n');
      assert.equal(sourceStamp(root), first, 'tests are not in the bundle');
      writeFileSync(join(root, 'src', 'deep', 'b.ts'), 'export const b = 3;\n');
      const edited = sourceStamp(root);
      assert.notEqual(edited, first);
      const later = new Date(Date.now() + 5_000);
      utimesSync(join(root, 'src', 'a.ts'), later, later);
      const touched = sourceStamp(root);
      assert.notEqual(touched, edited, 'same size, new time: rebuilt rather than trusted');
      writeFileSync(join(root, 'src', 'deep', 'c.json'), '{}');
      assert.notEqual(sourceStamp(root), touched);
      assert.equal(cliBundleFile(root), join(root, 'node_modules', '.cache', 'gauntlet-cli', `cli-${sourceStamp(root)}.mjs`));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs commands as the sources do: help, a run, an input error', () => {
    const help = gauntlet(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.ok(existsSync(cliBundleFile(ROOT)), 'the first command built the bundle for the sources as they stand');
    assert.ok(!existsSync(`${cliBundleFile(ROOT)}.failed`), 'and it loaded: a bundle that fails to load is marked');
    assert.equal(help.stdout, gauntlet(['--help'], SOURCES).stdout);
    assert.match(help.stdout, /Usage: gauntlet/);

    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-cli-bundle-'));
    try {
      const run = (store: string, env: Record<string, string> = {}) => {
        const out = gauntlet(['run', '--env', 'mail', '--model', 'oracle', '--epochs', '1', '--concurrency', '4', '--seed', '3', '--store', join(dir, store), '--json'], env);
        assert.equal(out.status, 0, out.stderr);
        const summary = JSON.parse(out.stdout) as { rollouts: number; scored: number; passed: number; errors: number; infraErrors: number };
        return { rollouts: summary.rollouts, scored: summary.scored, passed: summary.passed, errors: summary.errors, infraErrors: summary.infraErrors };
      };
      const bundled = run('bundled.db');
      assert.ok(bundled.rollouts > 0 && bundled.passed === bundled.rollouts, JSON.stringify(bundled));
      assert.deepEqual(bundled, run('sources.db', SOURCES));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const wrong = gauntlet(['run', '--env', 'no-such-env', '--model', 'oracle']);
    const wrongFromSources = gauntlet(['run', '--env', 'no-such-env', '--model', 'oracle'], SOURCES);
    assert.notEqual(wrong.status, 0);
    assert.equal(wrong.status, wrongFromSources.status);
    assert.equal(wrong.stderr, wrongFromSources.stderr);
    assert.match(wrong.stderr, /no-such-env/);
  });
});
