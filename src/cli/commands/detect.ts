// `gauntlet detect`: reward-hack and safety detectors over a stored run (findings stored with each
// rollout) or over an export file (optionally scored against labels).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError, type DetectionReport, type ModelClient, type Task } from '../../core/index.ts';
import { printable } from '../../eval/index.ts';
import { createModelClient } from '../../model/index.ts';
import {
  createMonitorDetector,
  detectTrajectory,
  evaluate,
  loadLabels,
  parseExportLine,
  renderEvaluation,
  RULE_DETECTORS,
  trajectoryOf,
  type Detector,
  type Evaluation,
  type Trajectory,
} from '../../reward/detectors/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { positiveInt } from '../options.ts';
import { openExistingStore } from '../store.ts';

interface DetectFlags {
  input?: string;
  labels?: string;
  monitor?: string;
  concurrency: number;
  store: string;
  json?: boolean;
}

/** One rollout's findings, as printed with --json. */
export interface DetectedRollout {
  rolloutId: string;
  taskId: string;
  env: string;
  /** Model calls the detectors read: 0 for a rollout that ended before its first, which nothing was judged on. */
  calls: number;
  flags: DetectionReport['flags'];
  review: DetectionReport['review'];
  monitor: DetectionReport['monitor'];
  unparsed: DetectionReport['unparsed'];
}

export interface DetectDocument {
  source: { runId: string } | { input: string };
  rollouts: DetectedRollout[];
  evaluation?: Evaluation;
}

export interface Job {
  trajectory: Trajectory;
  /** The task the rollout ran, where known (a stored run's): detectors read what its environment marks. */
  task?: Task;
  /** Stores the report (a run's rollouts); nothing for files. */
  save?: (report: DetectionReport) => void;
}

const JSONL = 'a JSONL file written by `gauntlet export RUN --format jsonl`';
/**
 * Longest line read: each line holds one rollout, and one string in memory holds at most about
 * 512 M characters. A longer line is refused before it is held whole.
 */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * The lines of a text file, numbered from 1: split on LF (a CR before it dropped), a byte-order
 * mark at the start skipped, each decoded as UTF-8 and refused, naming its line, when it is not
 * (never read with U+FFFD in place of what was there) or when it is longer than `maxLineBytes`.
 */
export async function* textLines(path: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<{ number: number; text: string }> {
  const unreadable = (error: unknown) => new InputError('--input', `cannot read ${path} (${(error as Error).message})`, JSONL);
  const info = await stat(path).catch((error: unknown) => {
    throw unreadable(error);
  });
  if (info.isDirectory()) throw new InputError('--input', `${path} is a directory`, JSONL);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let size = 0;
  let number = 1;
  const take = (piece: Buffer) => {
    if (piece.length === 0) return;
    if (size + piece.length > maxLineBytes) throw new InputError(`${path}:${number}`, `the line is longer than ${maxLineBytes} bytes`, 'one rollout per line, each at most that long');
    parts.push(piece);
    size += piece.length;
  };
  const line = (): { number: number; text: string } => {
    const bytes = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new InputError(`${path}:${number}`, 'the line is not valid UTF-8', `${JSONL}, in UTF-8`);
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (number === 1 && text.startsWith('\ufeff')) text = text.slice(1);
    return { number: number++, text };
  };
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
        take(chunk.subarray(start, end));
        yield line();
        start = end + 1;
      }
      take(chunk.subarray(start));
    }
  } catch (error) {
    throw error instanceof InputError ? error : unreadable(error);
  } finally {
    stream.destroy();
  }
  if (size > 0) yield line();
}

async function* fromFile(path: string): AsyncGenerator<Job> {
  for await (const { number, text } of textLines(path)) {
    if (text.trim() === '') continue;
    const exported = parseExportLine(text, `${path}:${number}`);
    yield { trajectory: trajectoryOf(exported.rollout, exported.calls, exported.events) };
  }
}

function* fromRun(store: SqliteStore, runId: string): Generator<Job> {
  if (!store.getRun(runId)) throw new InputError('RUN_ID', `no run "${runId}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
  // The run's own copy of each task: what its environment marks (commits holding the answer) as it ran.
  const tasks = new Map(store.runTasks(runId).map(({ task }) => [task.id, task]));
  for (const rollout of store.rollouts(runId)) {
    const trajectory = trajectoryOf(rollout, store.modelCalls(rollout.id), store.events(rollout.id));
    const task = tasks.get(rollout.taskId);
    yield { trajectory, ...(task ? { task } : {}), save: (report) => store.saveDetections(rollout.id, rollout.attempt, report) };
  }
}

/**
 * Runs the detectors over every job, `concurrency` at a time (the monitor waits on a model), keeping
 * input order. The first failure (an unreadable line, a defect) is thrown once the jobs already
 * started have ended, so none is left writing to a store being closed or failing unheard.
 */
export async function detectAll(jobs: AsyncIterable<Job> | Iterable<Job>, detectors: readonly Detector[], concurrency: number): Promise<DetectedRollout[]> {
  const out: DetectedRollout[] = [];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  let index = 0;
  try {
    for await (const job of jobs) {
      const at = index++;
      const task = (async () => {
        const report = await detectTrajectory(job.trajectory, { detectors, ...(job.task ? { task: job.task } : {}) });
        job.save?.(report);
        const t = job.trajectory;
        out[at] = { rolloutId: t.rolloutId, taskId: t.taskId, env: t.env, calls: t.turns.length, flags: report.flags, review: report.review, monitor: report.monitor, unparsed: report.unparsed };
      })();
      running.add(task);
      task.then(
        () => running.delete(task),
        (error: unknown) => {
          running.delete(task);
          failure ??= { error };
        },
      );
      if (running.size >= concurrency) await Promise.race(running).catch(() => undefined);
      if (failure) break;
    }
  } finally {
    await Promise.allSettled([...running]);
  }
  if (failure) throw (failure as { error: unknown }).error;
  return out;
}

function render(io: CliIo, doc: DetectDocument): void {
  const flagged = doc.rollouts.filter((r) => r.flags.length > 0);
  // Ids, excerpts and reasons come from the input and the agent: control, bidirectional and line-breaking
  // characters are shown as escapes, so none can recolour the terminal or forge a line of this report.
  // A rollout with no model calls is not clean: nothing of it was there to judge.
  const unread = doc.rollouts.filter((r) => r.calls === 0).length;
  io.stdout(`${doc.rollouts.length} rollouts, ${flagged.length} flagged${unread > 0 ? `, ${unread} with no model calls to read (not judged)` : ''}\n`);
  for (const r of flagged) {
    io.stdout(`\n${printable(r.rolloutId)}  ${printable(r.env)} ${printable(r.taskId)}\n`);
    for (const f of r.flags) {
      io.stdout(`  ${f.severity.padEnd(6)} ${f.category.padEnd(26)} call ${String(f.evidence.callIndex).padEnd(3)} ${printable(f.evidence.excerpt)}\n`);
      if (f.reason) io.stdout(`         ${printable(f.reason)}  [${printable(f.detector)}]\n`);
    }
  }
  const review = doc.rollouts.filter((r) => r.review.length > 0);
  if (review.length > 0) {
    io.stdout(`\nqueued for expert review (rules and monitor disagree):\n`);
    for (const r of review) io.stdout(`  ${printable(r.rolloutId)}: ${r.review.map((e) => `${e.category} (${e.disagreement.replace('_', ' ')})`).join(', ')}\n`);
  }
  const unparsed = doc.rollouts.filter((r) => r.unparsed.length > 0);
  if (unparsed.length > 0) {
    io.stdout(`\ncommands the rules did not read in full (what they left out is not judged):\n`);
    for (const r of unparsed) for (const u of r.unparsed) io.stdout(`  ${printable(r.rolloutId)} call ${u.callIndex}: ${printable(u.excerpt)} — ${printable(u.error)}\n`);
  }
  if (doc.evaluation) io.stdout(`\n${renderEvaluation(doc.evaluation)}\n`);
}

export function registerDetectCommand(program: Command, io: CliIo): void {
  program
    .command('detect')
    .description('Run the reward-hack and safety detectors over a stored run (findings are stored with each rollout) or an export file')
    .argument('[runId]', 'a stored run (omit with --input)')
    .option('--input <file>', 'a JSONL file written by `gauntlet export RUN --format jsonl`')
    .option('--labels <file>', 'expected categories per rollout: print precision, recall and F1 per category and overall')
    .option('--monitor <spec>', 'also ask this model (any --model spec) for a verdict; disagreements with the rules are queued for review')
    .option('--concurrency <n>', 'rollouts examined at once (matters with --monitor)', positiveInt('--concurrency', { max: 256 }), 4)
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action(async (runId: string | undefined, flags: DetectFlags) => {
      if ((runId === undefined) === (flags.input === undefined)) throw new InputError(runId === undefined ? 'RUN_ID' : '--input', runId === undefined ? 'nothing to examine' : 'both a run and --input given', 'a run id or --input FILE, one of them');
      const labels = flags.labels ? loadLabels(flags.labels) : undefined;
      let monitorModel: ModelClient | undefined;
      const detectors: Detector[] = [...RULE_DETECTORS];
      if (flags.monitor) {
        try {
          monitorModel = await createModelClient(flags.monitor, { env: io.env });
        } catch (error) {
          throw error instanceof InputError ? error.at('--monitor') : error;
        }
        detectors.push(createMonitorDetector({ model: monitorModel }));
      }
      const store = runId !== undefined ? openExistingStore(flags.store, io) : undefined;
      try {
        const jobs = store && runId !== undefined ? fromRun(store, runId) : fromFile(flags.input!);
        const rollouts = await detectAll(jobs, detectors, flags.concurrency);
        const doc: DetectDocument = {
          source: runId !== undefined ? { runId } : { input: flags.input! },
          rollouts,
          ...(labels ? { evaluation: evaluate(rollouts, labels, flags.labels!) } : {}),
        };
        if (flags.json) printJson(io, doc);
        else render(io, doc);
        const failed = rollouts.filter((r) => r.monitor?.status === 'infra_error');
        if (failed.length > 0) {
          const first = failed[0]!.monitor;
          io.stderr(`gauntlet: the monitor could not judge ${failed.length} of ${rollouts.length} rollouts (first: ${first?.status === 'infra_error' ? printable(first.message) : ''}); their rule findings stand, the monitor's verdict is missing\n`);
          process.exitCode = 1;
        }
        if (rollouts.length === 0) io.stderr(`gauntlet: ${runId !== undefined ? `run ${printable(runId)} has no rollouts` : `${printable(flags.input!)} holds no rollouts`}: nothing was examined\n`);
        else if (store) io.stderr(`stored the findings of ${rollouts.length} rollouts in ${store.path}\n`);
      } finally {
        store?.close();
        await monitorModel?.close?.();
      }
    });
}
