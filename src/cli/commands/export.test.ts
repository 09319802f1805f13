import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { parquetReadObjects } from 'hyparquet';
import { errorMessage } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { EXPORT_RUN, HOSTILE_RUN, seedExportRun, storeWith } from '../../training/export/testing.ts';
import type { ExportSummary } from '../../training/export/index.ts';
import type { CliIo } from '../io.ts';
import { registerExportCommand } from './export.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-export-cli-'));
const storePath = join(dir, 'g.db');
const seeded = openStore(storePath);
seedExportRun(seeded);
seeded.close();

/** The command on a fresh program, as the CLI registers it; errors come back as their message. */
async function cli(args: string[], store = storePath): Promise<{ out: string; err: string; error: string | null; exitCode: number | undefined }> {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerExportCommand(program, io);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const before = process.exitCode;
  let error: string | null = null;
  try {
    await program.parseAsync(['node', 'gauntlet', 'export', ...args, '--store', store]);
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    error = errorMessage(cause ?? e);
  }
  const exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  process.exitCode = before;
  return { out: io.out, err: io.err, error, exitCode };
}

describe('gauntlet export', () => {
  it('without --for writes the rollout records, as before', async () => {
    const { out, error } = await cli([EXPORT_RUN, '--format', 'jsonl']);
    assert.equal(error, null);
    const records = out.trim().split('\n').map((l) => JSON.parse(l) as { rollout: { id: string }; modelCalls: unknown[] });
    assert.equal(records.length, 7);
    assert.ok(records.every((r) => r.modelCalls.length > 0));
  });

  it('writes rollout records as JSONL, their only format, when --format is left out', async () => {
    const given = await cli([EXPORT_RUN, '--format', 'jsonl']);
    const { out, error } = await cli([EXPORT_RUN]);
    assert.equal(error, null);
    assert.equal(out, given.out);
  });

  it('asks for --format with --for: a trainer reads JSONL or Parquet, neither is the default for all', async () => {
    const { out, error } = await cli([EXPORT_RUN, '--for', 'verl']);
    assert.match(error ?? '', /^--format: not given: verl rows can be jsonl or parquet \(expected --format jsonl or --format parquet/);
    assert.equal(out, '');
  });

  it('streams training rows to stdout and the summary to stderr', async () => {
    const { out, err, error } = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'trl', '--advantage', 'drgrpo']);
    assert.equal(error, null);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { sample_id: string; advantage: number });
    assert.equal(rows[0]?.sample_id, 'ro_a0/s0');
    assert.equal(rows[0]?.advantage, 0.5);
    assert.match(err, /exported 7 rows \(trl rollout-func, jsonl\) from 4 of 7 rollouts of run run_export → stdout/);
    assert.match(err, /no_logprobs: 1\n {4}ro_c0/);
    assert.match(err, /template drift: 1 of 4 rollouts — dropped_reasoning 1/);
  });

  it('writes Parquet to a file and prints the summary as JSON on stdout with --json', async () => {
    const output = join(dir, 'verl.parquet');
    const { out, error } = await cli([EXPORT_RUN, '--format', 'parquet', '--for', 'verl', '--output', output, '--json']);
    assert.equal(error, null);
    const summary = JSON.parse(out) as ExportSummary;
    assert.equal(summary.rows, 8);
    assert.equal(summary.output, output);
    const bytes = readFileSync(output);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    assert.equal(rows.length, 8);
  });

  it('exports SFT conversations from --min-score and a prime-rl variant', async () => {
    const sft = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'sft', '--min-score', '0.5', '--json']);
    assert.equal(sft.out.trim().split('\n').length, 5);
    assert.equal((JSON.parse(sft.err) as ExportSummary).rows, 5, 'the JSON summary goes to stderr when rows use stdout');
    const legacy = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'prime-rl', '--variant', 'legacy']);
    assert.equal(legacy.error, null);
    assert.match(legacy.err, /prime-rl legacy/);
  });

  it('exports trl async rows with --policy-version for calls that recorded none, and checks ids against --vocab-size', async () => {
    const plain = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'trl', '--variant', 'async']);
    assert.match(plain.err, /no_policy_version: 1\n {4}ro_d0 .*call 0 recorded no policy version \(give --policy-version/);
    const { out, error } = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'trl', '--variant', 'async', '--policy-version', '0', '--vocab-size', '150000']);
    assert.equal(error, null);
    const versions = out.trim().split('\n').map((l) => JSON.parse(l) as { rollout_id: string; model_version: number });
    assert.deepEqual([...new Set(versions.map((r) => `${r.rollout_id} ${r.model_version}`))], ['ro_a0 3', 'ro_a1 4', 'ro_a2 4', 'ro_d0 0']);
    const tight = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'verl', '--vocab-size', '1000']);
    assert.match(tight.err, /invalid_tokens: 5\n {4}ro_a0 .*is beyond the vocabulary \(--vocab-size 1000/);
  });

  it('keeps every rollout record on one line by any reader\'s count', async () => {
    // Before: a U+2028 in a message went out raw, and Python's str.splitlines() cut the record in two.
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-lines-')), 'lines.db');
    storeWith([{ id: 'ro_lines', calls: [{ prompt: [1, 2], completion: [3], content: 'a\u2028b\u0085c' }] }], 'finished', path).close();
    const { out, error } = await cli([HOSTILE_RUN], path);
    assert.equal(error, null);
    const lines = out.split(/\r\n|[\n\r\v\f\x85\u2028\u2029]/).filter(Boolean);
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0] as string) as { modelCalls: { request: { messages: { content: string }[] } }[] }).modelCalls[0]?.request.messages[0]?.content, 'a\u2028b\u0085c');
  });

  it('exits non-zero when nothing could be exported', async () => {
    const { exitCode, err } = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'sft', '--min-score', '2']);
    assert.equal(exitCode, 1);
    assert.match(err, /warning: nothing was exported/);
  });

  it('names the flag and what was expected for bad combinations', async () => {
    const cases: [string[], RegExp][] = [
      [['--format', 'parquet', '--for', 'verl'], /--output: Parquet is written to a file/],
      [['--format', 'parquet'], /--format: parquet holds training rows \(expected --for with a trainer/],
      [['--format', 'jsonl', '--for', 'verl', '--min-score', '1'], /--min-score: applies to --for sft, not verl/],
      [['--format', 'jsonl', '--for', 'verl', '--variant', 'async'], /--variant: "async" is not a variant of verl/],
      [['--format', 'jsonl', '--for', 'prime-rl', '--variant', 'legacy', '--temperature', '1'], /--temperature: prime-rl legacy rows carry no temperatures/],
      [['--format', 'jsonl', '--for', 'verl', '--events'], /--events: applies to rollout records only/],
      [['--format', 'jsonl', '--for', 'axolotl'], /--for: got "axolotl" \(expected one of verl, skyrl, trl, prime-rl, generic, sft\)/],
      [['--format', 'jsonl', '--for', 'verl', '--tokenizer', join(dir, 'missing.json')], /missing\.json: cannot read the tokenizer/],
      // prime-rl divides each token's logits by its temperature.
      [['--format', 'jsonl', '--for', 'prime-rl', '--temperature', '0'], /--temperature: is 0, and prime-rl divides each token's logits by its temperature \(expected a temperature above 0\)/],
      [['--format', 'jsonl', '--for', 'verl', '--policy-version', '3'], /--policy-version: verl agent-loop rows need no policy version \(expected --for trl --variant async\)/],
      [['--format', 'jsonl', '--for', 'trl', '--variant', 'async', '--policy-version', '1.5'], /--policy-version: got 1\.5 \(expected a training step/],
      [['--format', 'jsonl', '--for', 'sft', '--vocab-size', '100'], /--vocab-size: sft rows carry no token ids/],
      [['--format', 'jsonl', '--for', 'verl', '--vocab-size', '1e3.5'], /--vocab-size: got "1e3\.5"/],
      [['--format', 'jsonl', '--policy-version', '3'], /--policy-version: applies to training rows only/],
    ];
    for (const [args, pattern] of cases) {
      const { error, out } = await cli([EXPORT_RUN, ...args]);
      assert.match(error ?? '', pattern, args.join(' '));
      assert.equal(out, '');
    }
  });
});

describe('gauntlet export --output', () => {
  it('refuses a pipe or device, which the rename into place would replace with a plain file', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-fifo-')), 'rows');
    execFileSync('mkfifo', [fifo]);
    for (const args of [['--format', 'jsonl', '--for', 'verl'], ['--format', 'parquet', '--for', 'generic'], ['--format', 'jsonl']]) {
      const { error } = await cli([EXPORT_RUN, ...args, '--output', fifo]);
      assert.match(error ?? '', /--output: .*rows is not a regular file \(a device, pipe or socket\)/, args.join(' '));
      assert.ok(statSync(fifo).isFIFO(), 'the pipe is still a pipe');
    }
  });

  it('refuses the store it exports from', async () => {
    const { error } = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'verl', '--output', storePath]);
    assert.match(error ?? '', /--output: .*g\.db is the store being exported/);
    const store = openStore(storePath);
    try {
      assert.ok(store.getRun(EXPORT_RUN), 'the store is intact');
    } finally {
      store.close();
    }
  });

  it('writes through a symlink to its target instead of replacing the link', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gauntlet-export-link-'));
    writeFileSync(join(folder, 'target.jsonl'), 'old\n');
    symlinkSync('target.jsonl', join(folder, 'train.jsonl'));
    const { error } = await cli([EXPORT_RUN, '--format', 'jsonl', '--for', 'verl', '--output', join(folder, 'train.jsonl')]);
    assert.equal(error, null);
    assert.ok(lstatSync(join(folder, 'train.jsonl')).isSymbolicLink());
    assert.equal(readFileSync(join(folder, 'target.jsonl'), 'utf8').trim().split('\n').length, 8);
  });

  it('leaves an earlier export in place when nothing could be exported', async () => {
    for (const format of ['jsonl', 'parquet']) {
      const output = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-empty-')), `train.${format}`);
      writeFileSync(output, 'an earlier export');
      const { exitCode, err, error } = await cli([EXPORT_RUN, '--format', format, '--for', 'sft', '--min-score', '2', '--output', output]);
      assert.equal(error, null);
      assert.equal(exitCode, 1);
      assert.match(err, new RegExp(`warning: no file was written: .*train\\.${format} is left as it was`));
      assert.equal(readFileSync(output, 'utf8'), 'an earlier export');
    }
  });
});
