// `gauntlet answers`: every model's final answers to the same questions, side by side across
// stored runs — for a personal set of favourite probes as much as for reading a suite's misses.
import type { Command } from 'commander';
import { InputError, type Rollout, type Run, type Task } from '../../core/index.ts';
import { loadTaskFile } from '../../envs/index.ts';
import { printable } from '../../eval/index.ts';
import { tasksOfRun } from '../../runner/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { openStoreToRead } from '../store.ts';
import { collect, positiveInt } from '../options.ts';

interface AnswersFlags {
  task?: string[];
  tasksFile?: string[];
  model?: string[];
  runs: number;
  width?: number;
  store: string;
  json?: boolean;
}

/** One model's final answer to a task in one run and epoch. */
export interface AnswerRow {
  model: string;
  runId: string;
  createdAt: string;
  epoch: number;
  status: Rollout['status'];
  passed: boolean | null;
  terminationReason: Rollout['terminationReason'];
  answer: string | null;
  /** Names of the verifier checks that failed. */
  failedChecks: string[];
  /** Why an infra error happened. */
  error: string | null;
}

export interface TaskAnswers {
  id: string;
  /** The question, when the task can still be found (a tasks file, or the run's own config). */
  instruction: string | null;
  followUps: string[];
  answers: AnswerRow[];
}

export interface AnswersDocument {
  store: string;
  runs: { id: string; model: string; createdAt: string }[];
  tasks: TaskAnswers[];
}

function followUpsOf(task: Task): string[] {
  const raw = task.initialState.followUps;
  return Array.isArray(raw) ? raw.filter((f): f is string => typeof f === 'string') : [];
}

/** The last attempt of each (task, epoch) in a run: the answer that counted. */
function finalRollouts(rollouts: readonly Rollout[], wanted: ReadonlySet<string>): Rollout[] {
  const last = new Map<string, Rollout>();
  for (const rollout of rollouts) {
    if (!wanted.has(rollout.taskId)) continue;
    const key = `${rollout.taskId}\u0000${rollout.epoch}`;
    const seen = last.get(key);
    if (!seen || rollout.attempt >= seen.attempt) last.set(key, rollout);
  }
  return [...last.values()];
}

function rowOf(run: Run, rollout: Rollout): AnswerRow {
  return {
    model: rollout.model,
    runId: run.id,
    createdAt: run.createdAt,
    epoch: rollout.epoch,
    status: rollout.status,
    passed: rollout.passed,
    terminationReason: rollout.terminationReason,
    answer: rollout.finalAnswer,
    failedChecks: rollout.verifier?.checks.filter((c) => !c.passed).map((c) => c.name) ?? [],
    // Whole: the reason is often on the lines after the first; the text view wraps it.
    error: rollout.error ? `${rollout.error.source}: ${rollout.error.message}` : null,
  };
}

/** A run from before tasks were stored: today's definitions, when they still exist. */
function legacyTasks(store: SqliteStore, run: Run): Task[] {
  try {
    return tasksOfRun(store, run.id, run.config).tasks;
  } catch (error) {
    if (error instanceof InputError) return [];
    throw error;
  }
}

/**
 * Final answers to `taskIds` from the newest `runs` stored runs (optionally only `models`),
 * grouped by task in the order asked; within a task by model, newest run first, then epoch.
 * Reads each run's rollouts whole: the store has no query by task id yet.
 */
export function collectAnswers(store: SqliteStore, options: { taskIds: readonly string[]; runs: number; models?: readonly string[]; known?: ReadonlyMap<string, Task> }): AnswersDocument {
  const wanted = new Set(options.taskIds);
  const known = new Map(options.known ?? []);
  const runs = store.listRuns(options.runs).filter((r) => !options.models || options.models.includes(r.config.model));
  const rows = new Map<string, AnswerRow[]>(options.taskIds.map((id) => [id, []]));
  for (const run of runs) {
    const finals = finalRollouts(store.rollouts(run.id), wanted);
    if (finals.length === 0) continue;
    for (const rollout of finals) rows.get(rollout.taskId)?.push(rowOf(run, rollout));
    if (finals.some((r) => !known.has(r.taskId))) {
      // The run's own stored tasks: the question exactly as it was asked then.
      const stored = store.runTasks(run.id);
      const tasks = stored.length > 0 ? stored.map((s) => s.task) : legacyTasks(store, run);
      for (const task of tasks) if (wanted.has(task.id) && !known.has(task.id)) known.set(task.id, task);
    }
  }
  const order = (a: AnswerRow, b: AnswerRow) => (a.model < b.model ? -1 : a.model > b.model ? 1 : b.createdAt.localeCompare(a.createdAt) || b.runId.localeCompare(a.runId) || a.epoch - b.epoch);
  return {
    store: store.path,
    runs: runs.map((r) => ({ id: r.id, model: r.config.model, createdAt: r.createdAt })),
    tasks: options.taskIds.map((id) => {
      const task = known.get(id);
      return { id, instruction: task?.instruction ?? null, followUps: task ? followUpsOf(task) : [], answers: (rows.get(id) ?? []).sort(order) };
    }),
  };
}

/** Greedy word wrap; words longer than the width are cut. Blank lines are kept. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      for (let piece = word; piece.length > 0; piece = piece.slice(width)) {
        const chunk = piece.slice(0, width);
        if (line === '') line = chunk;
        else if (line.length + 1 + chunk.length <= width) line += ` ${chunk}`;
        else {
          out.push(line);
          line = chunk;
        }
      }
    }
    out.push(line);
  }
  while (out.length > 1 && out.at(-1) === '') out.pop();
  return out;
}

function resultOf(row: AnswerRow): string {
  if (row.status === 'infra_error') return '! infra';
  if (row.status === 'cancelled') return '- cancelled';
  return row.passed ? '✓ pass' : '✗ fail';
}

/**
 * Terminal text: per task the question, then one entry per (model, run, epoch) with its answer
 * wrapped beneath. Answers are the model's own text: escape sequences and other control
 * characters in them (or in names) are shown as escapes, never sent to the terminal.
 */
export function renderAnswers(doc: AnswersDocument, width: number): string {
  const out: string[] = [];
  const text = (value: string) => printable(value, { keepNewlines: true });
  const line = (value: string) => printable(value);
  const indent = (lines: string[], by: number) => lines.map((l) => (l === '' ? '' : `${' '.repeat(by)}${l}`));
  for (const task of doc.tasks) {
    if (out.length > 0) out.push('');
    out.push(line(task.id));
    if (task.instruction) out.push(...indent(wrap(text(task.instruction), width - 2), 2));
    task.followUps.forEach((f, i) => out.push(...indent(wrap(text(`then (turn ${i + 2}): ${f}`), width - 2), 2)));
    if (task.answers.length === 0) {
      out.push('  (no stored answers)');
      continue;
    }
    const modelWidth = Math.min(40, Math.max(...task.answers.map((a) => line(a.model).length)));
    const resultWidth = Math.max(...task.answers.map((a) => resultOf(a).length));
    for (const row of task.answers) {
      const name = line(row.model);
      const model = name.length > modelWidth ? `${name.slice(0, modelWidth - 1)}…` : name.padEnd(modelWidth);
      const date = row.createdAt.slice(0, 16).replace('T', ' ');
      out.push('', `  ${resultOf(row).padEnd(resultWidth)}  ${model}  ${line(date)}  ${line(row.runId)} #${row.epoch}`);
      const body = row.answer ?? (row.error ? `(no answer: ${row.error})` : `(no answer: ${row.terminationReason})`);
      out.push(...indent(wrap(text(body), Math.max(20, width - 6)), 6));
      if (row.failedChecks.length > 0) out.push(...indent(wrap(line(`failed: ${row.failedChecks.join(', ')}`), Math.max(20, width - 6)), 6));
    }
  }
  return out.join('\n');
}

function terminalWidth(io: CliIo, flag: number | undefined): number {
  const columns = Number(io.env.COLUMNS);
  return Math.max(40, flag ?? (Number.isInteger(columns) && columns > 0 ? columns : 100));
}

export function registerAnswersCommand(program: Command, io: CliIo): void {
  program
    .command('answers')
    .description('Show every model\'s final answers to the same tasks side by side, across stored runs')
    .option('--task <id>', 'task id(s), repeatable or comma-separated', collect)
    .option('--tasks-file <file>', 'every task in this YAML/JSON file (repeatable), e.g. examples/fun-questions.yaml', collect)
    .option('--model <spec>', 'only runs of these models, repeatable', collect)
    .option('--runs <n>', 'look at the n newest runs', positiveInt('--runs'), 50)
    .option('--width <n>', 'wrap at this many columns (default $COLUMNS or 100)', positiveInt('--width'))
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action((flags: AnswersFlags) => {
      const fromFiles = (flags.tasksFile ?? []).flatMap((file) => loadTaskFile(file));
      const taskIds = [...new Set([...(flags.task ?? []), ...fromFiles.map((t) => t.id)])];
      if (taskIds.length === 0) throw new InputError('--task', 'no tasks given', '--task ID (repeatable) or --tasks-file FILE');
      const store = openStoreToRead(flags.store);
      try {
        const doc = collectAnswers(store, {
          taskIds,
          runs: flags.runs,
          ...(flags.model ? { models: flags.model } : {}),
          known: new Map(fromFiles.map((t) => [t.id, t])),
        });
        if (flags.json) return printJson(io, doc);
        if (doc.runs.length === 0) io.stderr(`no runs in ${store.path}${flags.model ? ` for ${flags.model.join(', ')}` : ''}\n`);
        io.stdout(`${renderAnswers(doc, terminalWidth(io, flags.width))}\n`);
      } finally {
        store.close();
      }
    });
}
