// `gauntlet detect`: reward-hack and safety detectors over a stored run (findings stored with each
// rollout) or over an export file (optionally scored against labels).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InputError, type DetectionReport, type ModelClient, type Task } from '../../core/index.ts';
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
import { printJson, safeText, type CliIo } from '../io.ts';
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

interface Job {
  trajectory: Trajectory;
  /** The task the rollout ran, where known (a stored run's): detectors read what its environment marks. */
  task?: Task;
  /** Stores the report (a run's rollouts); nothing for files. */
  save?: (report: DetectionReport) => void;
}

async function* fromFile(path: string): AsyncGenerator<Job> {
  const stream = createReadStream(path, 'utf8');
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new InputError('--input', `cannot read ${path} (${error.message})`, 'a JSONL file written by `gauntlet export RUN --format jsonl`')));
  });
  await opened;
  let number = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    number++;
    if (line.trim() === '') continue;
    const exported = parseExportLine(line, `${path}:${number}`);
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

/** Runs the detectors over every job, `concurrency` at a time (the monitor waits on a model), keeping input order. */
async function detectAll(jobs: AsyncIterable<Job> | Iterable<Job>, detectors: readonly Detector[], concurrency: number): Promise<DetectedRollout[]> {
  const out: DetectedRollout[] = [];
  const running = new Set<Promise<void>>();
  let index = 0;
  for await (const job of jobs) {
    const at = index++;
    const task = (async () => {
      const report = await detectTrajectory(job.trajectory, { detectors, ...(job.task ? { task: job.task } : {}) });
      job.save?.(report);
      const t = job.trajectory;
      out[at] = { rolloutId: t.rolloutId, taskId: t.taskId, env: t.env, flags: report.flags, review: report.review, monitor: report.monitor, unparsed: report.unparsed };
    })();
    running.add(task);
    void task.finally(() => running.delete(task));
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  return out;
}

function render(io: CliIo, doc: DetectDocument): void {
  const flagged = doc.rollouts.filter((r) => r.flags.length > 0);
  io.stdout(`${doc.rollouts.length} rollouts, ${flagged.length} flagged\n`);
  for (const r of flagged) {
    io.stdout(`\n${r.rolloutId}  ${safeText(r.env)} ${safeText(r.taskId)}\n`);
    for (const f of r.flags) {
      io.stdout(`  ${f.severity.padEnd(6)} ${f.category.padEnd(26)} call ${String(f.evidence.callIndex).padEnd(3)} ${safeText(f.evidence.excerpt)}\n`);
      if (f.reason) io.stdout(`         ${safeText(f.reason)}  [${safeText(f.detector)}]\n`);
    }
  }
  const review = doc.rollouts.filter((r) => r.review.length > 0);
  if (review.length > 0) {
    io.stdout(`\nqueued for expert review (rules and monitor disagree):\n`);
    for (const r of review) io.stdout(`  ${r.rolloutId}: ${r.review.map((e) => `${e.category} (${e.disagreement.replace('_', ' ')})`).join(', ')}\n`);
  }
  const unparsed = doc.rollouts.filter((r) => r.unparsed.length > 0);
  if (unparsed.length > 0) {
    io.stdout(`\ncommands the shell parser could not read (the rules saw nothing there):\n`);
    for (const r of unparsed) for (const u of r.unparsed) io.stdout(`  ${r.rolloutId} call ${u.callIndex}: ${safeText(u.excerpt)} — ${safeText(u.error)}\n`);
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
          io.stderr(`gauntlet: the monitor could not judge ${failed.length} of ${rollouts.length} rollouts (first: ${first?.status === 'infra_error' ? safeText(first.message) : ''}); their rule findings stand, the monitor's verdict is missing\n`);
          process.exitCode = 1;
        }
        if (store) io.stderr(`stored the findings of ${rollouts.length} rollouts in ${store.path}\n`);
      } finally {
        store?.close();
        await monitorModel?.close?.();
      }
    });
}
