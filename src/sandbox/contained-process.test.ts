// Long-running programs inside bubblewrap (what MCP servers run in): what they can see and what
// they cannot change. Skipped (with the reason) only where bubblewrap cannot run; CI installs it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { InputError } from '../core/index.ts';
import { sandboxAvailability, spawnContained, type ContainedProgramOptions } from './index.ts';
import { processesWithArgument } from '../../test/support/processes.ts';

const { bwrap } = await sandboxAvailability();

function requireBwrap(t: TestContext): boolean {
  if (!bwrap.available) t.skip(`bwrap unavailable here: ${bwrap.reason}`);
  return bwrap.available;
}

/** Runs a program to its end and returns its exit code and output. */
async function runToEnd(options: ContainedProgramOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child } = await spawnContained(options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}


describe('programs inside bubblewrap', () => {
  it('see a folder named as a whole argument read-only, and nothing else of the host beyond the system', async (t) => {
    if (!requireBwrap(t)) return;
    const data = mkdtempSync(join(tmpdir(), 'gauntlet-contained-'));
    chmodSync(data, 0o755);
    writeFileSync(join(data, 'input.txt'), 'visible\n');
    chmodSync(join(data, 'input.txt'), 0o644);
    try {
      const script = 'cat "$0/input.txt"; touch "$0/planted" 2>&1; ls /root /home 2>&1; echo tmp > /tmp/t && cat /tmp/t; echo "HOME=$HOME"';
      const r = await runToEnd({ command: 'bash', args: ['-c', script, data] });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines[0], 'visible');
      assert.match(lines[1] ?? '', /Read-only file system/);
      assert.match(r.stdout, /cannot access '\/root': No such file or directory/);
      assert.match(r.stdout, /\ntmp\nHOME=\/tmp\n$/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('stop() ends a program that ignores its closed stdin, and everything it started', async (t) => {
    if (!requireBwrap(t)) return;
    const marker = String(300_000 + (process.pid % 50_000));
    const program = await spawnContained({ command: 'bash', args: ['-c', `sleep ${marker} & sleep ${marker}; echo never`] });
    const closed = new Promise<void>((resolve) => program.child.once('close', () => resolve()));
    await program.stop(200);
    await closed;
    assert.equal(program.child.signalCode, 'SIGKILL');
    assert.deepEqual(processesWithArgument(marker), [], 'no sleep survives');
  });

  it('refuse to share the host root, /proc or a relative path', async () => {
    await assert.rejects(spawnContained({ command: 'true', cwd: '/' }), (error: unknown) => error instanceof InputError && /cwd: \/ cannot be shared/.test(error.message));
    await assert.rejects(spawnContained({ command: 'true', readOnlyPaths: ['/proc/1'] }), /readOnlyPaths: "\/proc\/1" cannot be shared/);
    await assert.rejects(spawnContained({ command: 'true', readOnlyPaths: ['data'] }), /readOnlyPaths: "data" cannot be shared/);
    await assert.rejects(spawnContained({ command: 'no-such-program-gauntlet' }), /command: "no-such-program-gauntlet" not found/);
  });
});
