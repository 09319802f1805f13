import { createWriteStream, existsSync, lstatSync, realpathSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import type { Command } from 'commander';
import { errorMessage, InputError, type Store } from '../../core/index.ts';
import { loadQwen3Tokenizer, loadTokenizer } from '../../formats/index.ts';
import { exportRunJsonl } from '../../store/index.ts';
import { AdvantageMethod, GroupBy } from '../../training/advantages/index.ts';
import { exportRun, oneLineJson, partialPath, renderSummary, resolveTarget, TargetName, TARGETS } from '../../training/export/index.ts';
import type { TokenDecoder } from '../../training/trajectory/index.ts';
import { printJson, safeText, type CliIo } from '../io.ts';
import { number, oneOf } from '../options.ts';
import { openStoreToRead } from '../store.ts';

interface ExportFlags {
  /** Absent: jsonl for rollout records (their only format); a trainer's rows need it named. */
  format?: 'jsonl' | 'parquet';
  for?: TargetName;
  variant?: string;
  advantage: AdvantageMethod;
  groupBy: GroupBy;
  minScore?: number;
  temperature?: number;
  policyVersion?: number;
  vocabSize?: number;
  tokenizer?: string;
  output?: string;
  events?: boolean;
  store: string;
  json?: boolean;
}

const VARIANTS = Object.entries(TARGETS)
  .filter(([, variants]) => variants.length > 1)
  .map(([name, variants]) => `${name}: ${variants.map((v) => v.variant).join(' (default) | ')}`)
  .join('; ');

/** `gauntlet export RUN`: rollout records as JSONL, or training rows for a trainer (`--for`). */
export function registerExportCommand(program: Command, io: CliIo): void {
  program
    .command('export')
    .description("Export a run: its rollouts with their model calls, or (with --for) training rows in a trainer's field names")
    .argument('<runId>')
    .option('--format <format>', 'jsonl | parquet (parquet needs --output and --for); rollout records default to jsonl, training rows (--for) need it named', oneOf('--format', ['jsonl', 'parquet'] as const))
    .option('--for <trainer>', `training rows for ${TargetName.options.join(' | ')}`, oneOf('--for', TargetName.options))
    .option('--variant <name>', `a trainer's other row shape (${VARIANTS})`)
    .option('--advantage <method>', 'group advantage: grpo | drgrpo | rloo', oneOf('--advantage', AdvantageMethod.options), 'grpo')
    .option('--group-by <key>', 'group: the group id, else task + seed; task: every rollout of a task', oneOf('--group-by', GroupBy.options), 'group')
    .option('--min-score <score>', 'sft: keep rollouts scoring at least this (default: those that passed)', number('--min-score'))
    .option('--temperature <t>', "prime-rl: the engine's default temperature, for calls that recorded none (above 0)", number('--temperature', { min: 0 }))
    .option('--policy-version <step>', 'trl async: the training step of the weights that served calls that recorded no policy version', number('--policy-version', { min: 0 }))
    .option('--vocab-size <n>', "the model's vocab_size (config.json): rollouts holding a token id at or past it are left out as invalid_tokens", number('--vocab-size', { min: 1 }))
    .option('--tokenizer <path|qwen3>', 'decode ids with this tokenizer to tell a template re-render from a tokenizer mismatch')
    .option('--output <file>', 'write here instead of stdout')
    .option('--events', "rollout records: include each rollout's event log")
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'the export summary as JSON (on stderr when the rows go to stdout)')
    .action(async (runId: string, flags: ExportFlags) => {
      const format = validate(flags);
      const decode = flags.tokenizer ? await decoderFor(flags.tokenizer) : undefined;
      const store = openStoreToRead(flags.store);
      try {
        if (!flags.for) return await exportRecords(io, store, runId, flags);
        const summary = await exportRun({
          store,
          runId,
          target: resolveTarget(flags.for, flags.variant),
          format,
          output: flags.output ?? null,
          stdout: io.stdout,
          advantage: flags.advantage,
          groupBy: flags.groupBy,
          ...(flags.minScore === undefined ? {} : { minScore: flags.minScore }),
          ...(flags.temperature === undefined ? {} : { assumedTemperature: flags.temperature }),
          ...(flags.policyVersion === undefined ? {} : { assumedPolicyVersion: flags.policyVersion }),
          ...(flags.vocabSize === undefined ? {} : { vocabSize: flags.vocabSize }),
          ...(decode ? { decode } : {}),
        });
        // stdout carries the rows unless they went to a file.
        if (flags.json && flags.output) printJson(io, summary);
        else if (flags.json) io.stderr(`${JSON.stringify(summary, null, 2)}\n`);
        else io.stderr(safeText(renderSummary(summary)));
        if (summary.rows === 0) process.exitCode = 1;
      } finally {
        store.close();
      }
    });
}

/** Checks the flags together; returns the format (rollout records default to jsonl, their only format). */
function validate(flags: ExportFlags): 'jsonl' | 'parquet' {
  if (flags.output !== undefined) flags.output = outputTarget(flags.output, flags.store);
  if (!flags.for) {
    if (flags.format === 'parquet') throw new InputError('--format', 'parquet holds training rows', '--for with a trainer, or --format jsonl for rollout records');
    for (const [flag, value] of [['--variant', flags.variant], ['--min-score', flags.minScore], ['--temperature', flags.temperature], ['--policy-version', flags.policyVersion], ['--vocab-size', flags.vocabSize], ['--tokenizer', flags.tokenizer]] as const) {
      if (value !== undefined) throw new InputError(flag, 'applies to training rows only', '--for with a trainer');
    }
    return 'jsonl';
  }
  if (flags.events) throw new InputError('--events', 'applies to rollout records only', 'no --for');
  // Which of the two a training setup reads varies: no default would be right for every trainer.
  if (flags.format === undefined) throw new InputError('--format', `not given: ${flags.for} rows can be jsonl or parquet`, '--format jsonl or --format parquet (with --output FILE)');
  if (flags.format === 'parquet' && !flags.output) throw new InputError('--output', 'Parquet is written to a file', 'a file path with --format parquet');
  if (flags.minScore !== undefined && flags.for !== 'sft') throw new InputError('--min-score', `applies to --for sft, not ${flags.for}`);
  if (flags.temperature !== undefined && flags.for !== 'prime-rl') throw new InputError('--temperature', `applies to --for prime-rl, not ${flags.for}`);
  // prime-rl divides each token's logits by its temperature: 0 would make the loss NaN.
  if (flags.temperature === 0) throw new InputError('--temperature', 'is 0, and prime-rl divides each token\'s logits by its temperature', 'a temperature above 0');
  const target = resolveTarget(flags.for, flags.variant);
  // A flag the rows would silently ignore is refused, as for the other targets.
  if (flags.temperature !== undefined && !target.needs.temperature) throw new InputError('--temperature', `${target.name} ${target.variant} rows carry no temperatures`, `--for ${target.name} without --variant ${target.variant}`);
  if (flags.policyVersion !== undefined && !target.needs.policyVersion) throw new InputError('--policy-version', `${target.name} ${target.variant} rows need no policy version`, '--for trl --variant async');
  if (flags.policyVersion !== undefined && !Number.isSafeInteger(flags.policyVersion)) throw new InputError('--policy-version', `got ${flags.policyVersion}`, 'a training step: a whole number ≥ 0');
  if (flags.vocabSize !== undefined && !target.needs.tokens) throw new InputError('--vocab-size', `${target.name} rows carry no token ids`, 'a trainer whose rows hold token ids');
  if (flags.vocabSize !== undefined && !Number.isSafeInteger(flags.vocabSize)) throw new InputError('--vocab-size', `got ${flags.vocabSize}`, "the model's vocab_size: a whole number");
  return flags.format;
}

const OUTPUT_EXPECTED = 'a file path in an existing, writable directory';

/**
 * The file an export replaces, checked before anything is exported, for every format: a missing
 * folder or a directory is `--output`'s mistake, not a crash mid-export. Exports are written
 * beside the destination and renamed over it, so a device or pipe (/dev/null, /dev/stdout) would
 * be replaced by a plain file and the store itself destroyed: both are refused. A symlink is
 * followed, so its target is replaced rather than the link.
 */
function outputTarget(path: string, storePath: string): string {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) {
    const folder = dirname(path);
    if (!existsSync(folder)) throw new InputError('--output', `cannot write ${path}: there is no folder ${folder}`, OUTPUT_EXPECTED);
    return path;
  }
  if (info.isDirectory()) throw new InputError('--output', `${path} is a directory`, OUTPUT_EXPECTED);
  if (!info.isFile()) {
    throw new InputError('--output', `${path} is not a regular file (a device, pipe or socket): the export is written beside it and renamed over it`, 'a regular file path, or no --output for JSONL on stdout');
  }
  for (const file of [storePath, `${storePath}-wal`, `${storePath}-shm`, `${storePath}-journal`]) {
    const other = statSync(file, { throwIfNoEntry: false });
    if (other && other.dev === info.dev && other.ino === info.ino) throw new InputError('--output', `${path} is the store being exported (${file})`, 'another file');
  }
  return lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
}

async function decoderFor(spec: string): Promise<TokenDecoder> {
  const tokenizer = spec === 'qwen3' ? await loadQwen3Tokenizer() : await loadTokenizer(spec);
  return (ids) => tokenizer.decode(ids);
}

/** Without --for: one JSON line per rollout with its model calls, as before. */
async function exportRecords(io: CliIo, store: Store, runId: string, flags: ExportFlags): Promise<void> {
  if (!store.getRun(runId)) throw new InputError('RUN_ID', `no run "${runId}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
  const lines = exportRunJsonl(store, runId, { events: Boolean(flags.events) });
  if (!flags.output) {
    for (const line of lines) io.stdout(`${oneLineJson(line)}\n`);
    return;
  }
  // Written beside the destination and renamed into place once whole: a damaged row read
  // half-way must neither leave a file that looks complete nor destroy an earlier export there.
  const partial = partialPath(flags.output);
  const out = await openOutput(partial, flags.output);
  let count = 0;
  try {
    for (const line of lines) {
      if (!out.write(`${oneLineJson(line)}\n`)) await once(out, 'drain');
      count++;
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    renameSync(partial, flags.output);
  } catch (error) {
    out.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
  io.stderr(`wrote ${count} rollouts to ${flags.output}\n`);
}

/** A file stream that has opened: a path that cannot be written (no permission, say) is `--output`'s mistake, as with Parquet, not a crash. */
async function openOutput(path: string, shown: string): Promise<WriteStream> {
  const out = createWriteStream(path);
  try {
    await once(out, 'open');
  } catch (error) {
    throw new InputError('--output', `cannot write ${shown} (${errorMessage(error)})`, OUTPUT_EXPECTED);
  }
  return out;
}
