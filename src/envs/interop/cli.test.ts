import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerInteropCommands } from '../../cli/commands/interop.ts';
import type { CliIo } from '../../cli/io.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { loadTaskFile } from '../tasks.ts';
import { connectMcpTools } from './mcp-client.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../../test/support/typescript.ts';

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
  it('imports a folder of task folders at any depth, printing what was imported, adapted, skipped, capped and rejected', async () => {
    const out = join(scratch, 'harbor.yaml');
    const { stdout, exitCode } = await run(['import', 'harbor', FIXTURES, '--out', out]);
    assert.equal(exitCode, 0);
    assert.match(stdout, /^✓ gauntlet-fixtures\/tb2-word-count \(\d+ adaptations\)$/m);
    assert.match(stdout, /^ {4}~ tests\/test\.sh:7: pytest via uvx replaced/m);
    assert.match(stdout, /^ {4}skipped: environment\/Dockerfile:9: skipped offline \(installs Python packages\): pip install --no-cache-dir pandas==2\.2\.3$/m);
    assert.match(stdout, /^ {4}provided as aliases: python → python3$/m);
    assert.match(stdout, /^ {4}cap: storage 20480 MB capped at 2048 MB \(the work dir lives in memory\)$/m);
    assert.match(stdout, /^✗ .*rejected-prebuilt-gpu rejected$/m);
    assert.match(stdout, /^ {4}- the task needs 1 GPU\(s\); sandboxes have none$/m);
    assert.match(stdout, /^13 imported, 1 rejected → .*harbor\.yaml$/m);
    const ids: string[] = loadTaskFile(out).map((t) => t.id);
    assert.equal(ids.length, 13);
    assert.ok(ids.includes('log-levels') && ids.includes('gauntlet-fixtures/sqlite-inventory'));
  });

  it('--json gives one document; terminal-bench is the same importer', async () => {
    const out = join(scratch, 'tb1.yaml');
    const { stdout } = await run(['import', 'terminal-bench', join(FIXTURES, 'tb1-sales-total'), '--out', out, '--json']);
    const doc = JSON.parse(stdout) as { out: string; imported: { id: string; folder: string; adaptations: string[]; skipped: string[]; missing: unknown; caps: string[] }[]; rejected: unknown[] };
    assert.equal(doc.out, out);
    assert.deepEqual(doc.imported.map((i) => [i.id, i.folder]), [['tb1-sales-total', join(FIXTURES, 'tb1-sales-total')]]);
    assert.ok(doc.imported[0]!.adaptations.length > 0);
    assert.deepEqual(doc.imported[0]!.skipped, ['Dockerfile:2: skipped offline (installs system packages): apt-get update', 'Dockerfile:2: skipped offline (installs system packages): apt-get install -y python3']);
    assert.deepEqual(doc.rejected, []);
    assert.ok(readFileSync(out, 'utf8').startsWith('# 1 task(s) imported by gauntlet'));
  });

  it('--pass-min sets the pass rule of every task imported; a pair that is not key=number is an input error', async () => {
    const out = join(scratch, 'relaxed.yaml');
    await run(['import', 'harbor', join(FIXTURES, 'suite/tb2/multi-reward'), '--out', out, '--pass-min', 'correctness=1,style=0']);
    const [task] = loadTaskFile(out);
    assert.deepEqual((task!.verifier.checks as { passRule: unknown }[])[0]!.passRule, { require: ['correctness', 'style'], min: { correctness: 1, style: 0 }, default: 1 });
    await assert.rejects(run(['import', 'harbor', join(FIXTURES, 'suite/tb2/multi-reward'), '--out', out, '--pass-min', 'style']), /--pass-min: "style" is not a key and a minimum/);
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

describe('gauntlet import --validate', () => {
  let skipReason: string | null = null;
  before(async () => {
    const { bwrap } = await sandboxAvailability();
    if (!bwrap.available) skipReason = `bwrap is not available here: ${bwrap.reason ?? 'unknown'}`;
  });

  it('reports per task whether the oracle passes and doing nothing fails, and calls a task likely broken only when its oracle fails', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const set = join(scratch, 'to-validate');
    cpSync(join(FIXTURES, 'suite/tb2/build-steps'), join(set, 'build-steps'), { recursive: true });
    // Needs a package the skipped pip install would have brought, so its oracle fails offline.
    const broken = join(set, 'needs-network');
    for (const [path, content] of Object.entries({
      'task.toml': 'version = "1.0"\n[task]\nname = "fixtures/needs-network"\n',
      'instruction.md': 'Write the cow.',
      'environment/Dockerfile': 'FROM python:3.12\nRUN pip install gauntlet-absent-cowsay==1.0\nWORKDIR /app\n',
      'solution/solve.sh': 'python3 -c "import gauntlet_absent_cowsay" > /app/cow.txt\n',
      'tests/test.sh': 'test -s /app/cow.txt && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    })) {
      mkdirSync(dirname(join(broken, path)), { recursive: true });
      writeFileSync(join(broken, path), content);
    }
    const { stdout, exitCode } = await run(['import', 'harbor', set, '--out', join(scratch, 'validated.yaml'), '--validate']);
    assert.equal(exitCode, 1);
    assert.match(stdout, /^✓ gauntlet-fixtures\/build-steps: ok; oracle passed, do-nothing failed$/m);
    assert.match(stdout, /^✗ fixtures\/needs-network: likely broken; oracle failed, do-nothing failed$/m);
    assert.match(stdout, /^ {4}- oracle failed: harbor_tests: reward\.txt: reward=0 /m);
    assert.match(stdout, /^ {4}- network step skipped: environment\/Dockerfile:2: skipped offline \(installs Python packages\): pip install gauntlet-absent-cowsay==1\.0$/m);
    assert.match(stdout, /^ {4}- missing in the sandbox: python module gauntlet_absent_cowsay$/m);
    assert.match(stdout, /^validated: 1 ok, 1 likely broken, 0 pass without work$/m);
  });
});

describe('gauntlet export-tasks', () => {
  it('writes the chosen built-in tasks as Harbor task folders', async () => {
    const dir = join(scratch, 'exported');
    const { stdout, exitCode } = await run(['export-tasks', '--env', 'terminal', '--format', 'harbor', dir, '--task', 'terminal/clean-build-tmp', '--task', 'terminal/count-error-lines']);
    assert.equal(exitCode, 0);
    assert.match(stdout, /^✓ terminal\/clean-build-tmp → .*clean-build-tmp$/m);
    assert.match(stdout, /^ {4}~ the final answer is read from \/work\/answer\.txt \(Harbor agents do not submit one\)$/m);
    assert.match(stdout, /^2 exported, 0 refused → /m);
    for (const file of ['task.toml', 'instruction.md', 'environment/Dockerfile', 'solution/solve.sh', 'tests/test.sh', 'tests/gauntlet_grade.py', 'tests/gauntlet_task.json']) {
      assert.ok(existsSync(join(dir, 'clean-build-tmp', file)), file);
    }
  });

  it('--json gives one document; an environment without a Harbor form exports nothing and exits non-zero', async () => {
    const { stdout, exitCode } = await run(['export-tasks', '--env', 'notes', '--format', 'harbor', join(scratch, 'notes-export'), '--json']);
    assert.equal(exitCode, 1);
    const doc = JSON.parse(stdout) as { exported: unknown[]; refused: { reasons: string[] }[] };
    assert.deepEqual(doc.exported, []);
    assert.ok(doc.refused.length > 0);
    assert.match(doc.refused[0]!.reasons[0]!, /environment "notes" has no Harbor form/);
  });

  it('an unknown format or task id is an input error', async () => {
    await assert.rejects(run(['export-tasks', '--env', 'terminal', '--format', 'openenv', join(scratch, 'x')]), /--format: got "openenv" \(expected one of harbor\)/);
    await assert.rejects(run(['export-tasks', '--env', 'terminal', '--format', 'harbor', join(scratch, 'x'), '--task', 'terminal/nope']), /unknown task id terminal\/nope/);
  });
});

describe('gauntlet mcp', () => {
  it("serves a built-in task's tools over stdio to an MCP client", async () => {
    const connection = await connectMcpTools({
      servers: [{ name: 'notes', command: process.execPath, args: [...TYPESCRIPT_NODE_ARGS, CLI, 'mcp', '--env', 'notes', '--task', 'notes/apply-budget-correction', '--seed', '3'] }],
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

  it('answers a line that is not JSON, or not JSON-RPC, with an error instead of leaving the client waiting', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, CLI, 'mcp', '--env', 'notes', '--task', 'notes/apply-budget-correction'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit');
    try {
      child.stdin.write('this is not json\n');
      child.stdin.write('{"hello": "world"}\n');
      await waitFor(() => out.split('\n').filter(Boolean).length >= 2 || child.exitCode !== null, 'two answers');
      const answers = out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: unknown; error?: { code: number; message: string } });
      assert.deepEqual(answers.map((a) => [a.id, a.error?.code]), [[null, -32700], [null, -32600]]);
      assert.match(answers[0]!.error!.message, /^Parse error: the line is not JSON/);
    } finally {
      child.stdin.end();
      await exited;
    }
  });

  it('an unknown task id is an input error', async () => {
    await assert.rejects(run(['mcp', '--env', 'notes', '--task', 'notes/nope']), /--task: no task of notes has id "notes\/nope"/);
  });
});
