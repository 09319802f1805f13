import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerInteropCommands } from '../../cli/commands/interop.ts';
import type { CliIo } from '../../cli/io.ts';
import { loadTaskFile } from '../tasks.ts';
import { connectMcpTools } from './mcp-client.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/harbor/', import.meta.url));
const CLI = fileURLToPath(new URL('../../../test/fixtures/mcp/cli.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-interop-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), interactive: false, env: {} };
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerInteropCommands(program, io);
  process.exitCode = undefined;
  await program.parseAsync(['node', 'gauntlet', ...args]);
  const exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { stdout, stderr, exitCode };
}

describe('gauntlet import', () => {
  it('imports a folder of task folders, printing what was imported, adapted and rejected', async () => {
    const out = join(scratch, 'harbor.yaml');
    const { stdout, exitCode } = await run(['import', 'harbor', FIXTURES, '--out', out]);
    assert.equal(exitCode, 0);
    assert.match(stdout, /^✓ harbor\/tb2-word-count \(\d+ adaptations\)$/m);
    assert.match(stdout, /^ {4}~ tests\/test\.sh:7: pytest via uvx replaced/m);
    assert.match(stdout, /^✗ .*rejected-prebuilt-gpu rejected$/m);
    assert.match(stdout, /^ {4}- the task needs 1 GPU\(s\); sandboxes have none$/m);
    assert.match(stdout, /^3 imported, 1 rejected → .*harbor\.yaml$/m);
    assert.deepEqual(loadTaskFile(out).map((t) => t.id), ['harbor/legacy-greeting', 'harbor/tb1-sales-total', 'harbor/tb2-word-count']);
  });

  it('--json gives one document; terminal-bench is the same importer', async () => {
    const out = join(scratch, 'tb1.yaml');
    const { stdout } = await run(['import', 'terminal-bench', join(FIXTURES, 'tb1-sales-total'), '--out', out, '--json']);
    const doc = JSON.parse(stdout) as { out: string; imported: { id: string; adaptations: string[] }[]; rejected: unknown[] };
    assert.equal(doc.out, out);
    assert.deepEqual(doc.imported.map((i) => i.id), ['harbor/tb1-sales-total']);
    assert.ok(doc.imported[0]!.adaptations.length > 0);
    assert.deepEqual(doc.rejected, []);
    assert.ok(readFileSync(out, 'utf8').startsWith('# 1 task(s) imported by gauntlet'));
  });

  it('exits non-zero and writes nothing when nothing is importable', async () => {
    const out = join(scratch, 'none.yaml');
    const { stderr, exitCode } = await run(['import', 'harbor', join(FIXTURES, 'rejected-prebuilt-gpu'), '--out', out]);
    assert.equal(exitCode, 1);
    assert.match(stderr, /nothing importable/);
    assert.equal(existsSync(out), false);
  });

  it('a path that is not a task folder is an input error naming it', async () => {
    await assert.rejects(run(['import', 'harbor', join(scratch, 'missing'), '--out', join(scratch, 'x.yaml')]), /missing: not a directory/);
  });
});

describe('gauntlet mcp', () => {
  it("serves a built-in task's tools over stdio to an MCP client", async () => {
    const connection = await connectMcpTools({
      servers: [{ name: 'notes', command: process.execPath, args: ['--import', 'tsx', CLI, 'mcp', '--env', 'notes', '--task', 'notes/apply-budget-correction', '--seed', '3'] }],
    });
    try {
      assert.ok(connection.tools.some((t) => t.name === 'notes__get_page'));
      assert.ok(connection.tools.some((t) => t.name === 'notes__submit'));
      const page = await connection.call('notes__get_page', { page_id: 'budget-q2' }, { signal: new AbortController().signal });
      assert.equal(page.ok, true);
      const missing = await connection.call('notes__get_page', { page_id: 'no-such-page' }, { signal: new AbortController().signal });
      assert.equal(missing.ok, false);
    } finally {
      await connection.close();
    }
  });

  it('an unknown task id is an input error', async () => {
    await assert.rejects(run(['mcp', '--env', 'notes', '--task', 'notes/nope']), /--task: no task of notes has id "notes\/nope"/);
  });
});
