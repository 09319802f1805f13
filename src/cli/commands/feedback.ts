// `gauntlet feedback ingest | to-tasks | cases`: user feedback triaged to the owners of each
// capability, and confirmed failures turned into regression tasks the next evaluation runs.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { FeedbackConfig } from '../../apps/feedback/areas.ts';
import { distinctReportTasks, feedbackCases, feedbackToTask, LabelledFeedback, readTriage, runTriage, type Triage } from '../../apps/feedback/triage.ts';
import { createAppModel } from '../../apps/keyed-model.ts';
import { loadYaml } from '../../apps/labels.ts';
import { readTasksFile, writeTasksFile } from '../../apps/tasks-file.ts';
import { InputError, type TaskInput } from '../../core/index.ts';
import { printJson, safeText, type CliIo } from '../io.ts';
import { budgetFromFlags, collect, positiveInt, positiveNumber, pricePerMillion, type BudgetFlags } from '../options.ts';
import { abortOnSignal, InterruptedError } from '../signals.ts';
import { openCliStore } from '../store.ts';

const CONFIG_EXPECTED = 'a YAML file with `areas: [{ id, name, description, owners, keywords }]` and `triageOwners`';

interface IngestFlags extends BudgetFlags {
  config: string;
  model?: string;
  out: string;
  concurrency: number;
  store: string;
  json?: boolean;
}

interface ToTasksFlags {
  triage: string;
  report: string[];
  confirmedBy: string;
  out: string;
  prompt?: string;
  expect?: string;
  pattern?: string;
}

export function registerFeedbackCommands(program: Command, io: CliIo): void {
  const feedback = program.command('feedback').description('Triage user feedback to capability owners and turn confirmed failures into regression tasks');

  feedback
    .command('ingest')
    .description('Normalise, deduplicate, cluster, classify (rules + model) and route feedback files (JSONL, CSV, GitHub issues JSON)')
    .argument('<files...>', 'feedback files')
    .requiredOption('--config <file>', 'areas, owners and keyword rules (YAML)')
    .option('--model <spec>', 'classifies what the rules leave open (keyed:FILE for the offline demo)')
    .option('--out <file>', 'the triage document', '.gauntlet/feedback/triage.json')
    .option('--concurrency <n>', 'classifier agents in flight', positiveInt('--concurrency'), 8)
    .option('--max-tokens <n>', 'token budget shared by the classifier agents', positiveInt('--max-tokens'))
    .option('--max-dollars <usd>', 'dollar budget shared by the classifier agents (needs --price-per-million)', positiveNumber('--max-dollars'))
    .option('--price-per-million <prompt:completion>', 'US dollars per million prompt and completion tokens, e.g. 0.30:1.20', pricePerMillion('--price-per-million'))
    .option('--store <path>', 'SQLite store for the classifier agents\' trajectories', '.gauntlet/gauntlet.db')
    .option('--json', 'print the triage document on stdout')
    .action(async (files: string[], flags: IngestFlags) => {
      const { limits, pricing } = budgetFromFlags(flags);
      const config = await loadYaml(flags.config, FeedbackConfig, CONFIG_EXPECTED);
      const model = flags.model ? await createAppModel(flags.model, { env: io.env }) : undefined;
      const store = model ? openCliStore(flags.store, io) : undefined;
      // Ctrl-C cancels the classifier agents but still writes the triage with what was decided.
      const interrupt = abortOnSignal(() => io.stderr('\ninterrupted: cancelling the classifier agents; the triage is still written (a second Ctrl-C stops at once)\n'));
      try {
        const triage = await runTriage({ files, config, ...(model ? { model } : {}), ...(store ? { store } : {}), concurrency: flags.concurrency, limits, ...(pricing ? { pricing } : {}), signal: interrupt.signal });
        await mkdir(dirname(flags.out), { recursive: true });
        await writeFile(flags.out, `${JSON.stringify(triage, null, 2)}\n`);
        if (flags.json) printJson(io, triage);
        else report(io, triage, flags.out);
        const failed = triage.clusters.filter((c) => c.method === null && model);
        if (interrupt.signal.aborted) throw new InterruptedError(`interrupted: ${failed.length} cluster${failed.length === 1 ? '' : 's'} left undecided; triage written to ${flags.out}`);
        if (failed.length > 0) {
          io.stderr(`gauntlet: the classifier decided nothing for ${failed.length} cluster${failed.length === 1 ? '' : 's'} (routed to ${config.triageOwners.join(', ')}); first: ${safeText(failed[0]?.failure ?? '')}\n`);
          process.exitCode = 1;
        }
      } finally {
        interrupt.dispose();
        store?.close();
        await model?.close?.();
      }
    });

  feedback
    .command('to-tasks')
    .description('Turn confirmed failures from a triage into question-set regression tasks (merged into --out)')
    .requiredOption('--triage <file>', 'the triage document from `feedback ingest`')
    .requiredOption('--report <id>', 'report id(s), repeatable', collect)
    .requiredOption('--confirmed-by <name>', 'who confirmed the failure')
    .requiredOption('--out <file>', 'tasks file to add to (run it with `gauntlet run --tasks-file FILE`, or list it under `taskFiles:` in an eval suite)')
    .option('--prompt <text>', 'what the model was asked (default: the report\'s `prompt`)')
    .option('--expect <text>', 'the right answer (default: the report\'s `expected`)')
    .option('--pattern <regex>', 'what a right answer matches, flag i (default: the expected answer as a whole word or number); it must match the expected answer and not the report\'s failed one')
    .action(async (flags: ToTasksFlags) => {
      const reports = new Set(flags.report).size;
      for (const [flag, value, what] of [['--prompt', flags.prompt, 'prompt'], ['--expect', flags.expect, 'expected answer'], ['--pattern', flags.pattern, 'check']] as const) {
        if (value === undefined) continue;
        // An empty value would otherwise fall back to the report's own text (or, as a pattern, match every answer).
        if (value.trim() === '') throw new InputError(flag, 'empty', flag === '--pattern' ? 'a regular expression the right answer matches' : 'some text');
        // One prompt or answer for several reports would give each of them the same task.
        if (reports > 1) throw new InputError(flag, `given with ${reports} reports; it would replace the ${what} of each of them`, `one --report with ${flag}, or several reports without it`);
      }
      const overrides = { ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}), ...(flags.expect !== undefined ? { expected: flags.expect } : {}), ...(flags.pattern !== undefined ? { pattern: flags.pattern } : {}) };
      const triage = await readTriage(flags.triage);
      const built: TaskInput[] = [];
      for (const reportId of flags.report) built.push(await feedbackToTask({ triage, reportId, confirmedBy: flags.confirmedBy, ...overrides }));
      const tasks = distinctReportTasks(built, await readTasksFile(flags.out));
      const { total } = await writeTasksFile(flags.out, tasks, { header: 'Regression tasks from confirmed user feedback (`gauntlet feedback to-tasks`).', merge: true });
      for (const task of tasks) io.stdout(`${task.id}\n`);
      io.stdout(`${flags.out} now holds ${total} task${total === 1 ? '' : 's'}\n`);
    });

  feedback
    .command('cases')
    .description('Write the feedback classifier\'s labelled set as a question-set tasks file')
    .requiredOption('--config <file>', 'areas, owners and keyword rules (YAML)')
    .requiredOption('--labelled <file>', 'YAML `items: [{ title, body, area }]`')
    .requiredOption('--out <file>', 'the tasks file to write')
    .action(async (flags: { config: string; labelled: string; out: string }) => {
      const config = await loadYaml(flags.config, FeedbackConfig, CONFIG_EXPECTED);
      const labelled = await loadYaml(flags.labelled, LabelledFeedback, 'a YAML file with `items: [{ title, body, area }]`');
      const tasks = feedbackCases({ config, labelled });
      await writeTasksFile(flags.out, tasks, { header: 'Generated by `gauntlet feedback cases`: the feedback classifier as question-set tasks.', merge: false });
      io.stdout(`wrote ${tasks.length} case${tasks.length === 1 ? '' : 's'} to ${flags.out}\n`);
    });
}

function report(io: CliIo, triage: Triage, out: string): void {
  const c = triage.counts;
  io.stdout(`feedback: ${c.rows} rows, ${c.skipped} skipped, ${c.reports} reports, ${c.duplicates} duplicates, ${c.clusters} clusters (${c.byRules} by rules, ${c.byModel} by model, ${c.undecided} undecided)\n`);
  for (const cluster of triage.clusters) {
    io.stdout(`  ${cluster.id} ${cluster.area ?? '(undecided)'} → ${cluster.owners.join(', ')}: ${oneLine(cluster.reports[0]?.title ?? '')}${cluster.reports.length + cluster.duplicates.length > 1 ? ` (+${cluster.reports.length + cluster.duplicates.length - 1})` : ''}\n`);
  }
  for (const p of triage.problems) io.stderr(`skipped ${oneLine(p.where)}: ${oneLine(p.message, 400)}\n`);
  io.stdout(`  triage: ${out}\n`);
}

/**
 * Reporters' text on one terminal line: a title (or an id) may hold line breaks that would pass
 * for lines of this listing, and a megabyte title would bury the rest; the triage file has it whole.
 */
function oneLine(text: string, max = 120): string {
  const flat = safeText(text.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
