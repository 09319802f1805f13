// `gauntlet export-tasks`: Harbor is its only format, so --format may be left out.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../../test/support/cli.ts';

describe('gauntlet export-tasks without --format', () => {
  it('writes Harbor task folders, the only format', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-tasks-')), 'out');
    const { code, out, err } = await cli(['export-tasks', dir, '--env', 'terminal', '--task', 'terminal/clean-build-tmp']);
    assert.equal(code, 0, err);
    assert.match(out, /^1 exported, 0 refused → /m);
    assert.ok(existsSync(join(dir, 'clean-build-tmp', 'task.toml')));
  });

  it('still refuses a format it does not write, naming the one it does', async () => {
    const { code, err } = await cli(['export-tasks', join(tmpdir(), 'never-written'), '--env', 'terminal', '--format', 'openenv']);
    assert.equal(code, 2);
    assert.match(err, /--format: got "openenv" \(expected one of harbor\)/);
  });
});
