// `gauntlet radar`: the research radar (feeds → subjects → digest), with `radar correct` for
// subject corrections and `radar cases` turning labelled items and corrections into eval tasks.
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { createAppModel } from '../../apps/keyed-model.ts';
import { correctSubject, LabelledItems, radarCases, readCorrections } from '../../apps/radar/cases.ts';
import { writeDigest } from '../../apps/radar/digest.ts';
import { loadFeedsFile } from '../../apps/radar/feeds.ts';
import { loadYaml } from '../../apps/labels.ts';
import { runRadar, type RadarResult } from '../../apps/radar/radar.ts';
import { SubjectsFile, type Subject } from '../../apps/radar/subjects.ts';
import { stateFileBeside } from '../../apps/state.ts';
import { writeTasksFile } from '../../apps/tasks-file.ts';
import { printJson, safeText, type CliIo } from '../io.ts';
import { budgetFromFlags, positiveInt, positiveNumber, pricePerMillion, type BudgetFlags } from '../options.ts';
import { abortOnSignal, InterruptedError } from '../signals.ts';
import { openCliStore } from '../store.ts';

const DEFAULT_STORE = '.gauntlet/gauntlet.db';
const STATE_FILE = 'radar-state.json';
const CORRECTIONS_FILE = 'radar-corrections.json';

interface RadarFlags extends BudgetFlags {
  feeds: string;
  subjects: string;
  model: string;
  out: string;
  date?: string;
  concurrency: number;
  agentDeadlineMs?: number;
  store: string;
  json?: boolean;
}

async function loadSubjects(path: string): Promise<Subject[]> {
  return (await loadYaml(path, SubjectsFile, 'a YAML file with `subjects: [{ id, name, description }]`')).subjects;
}

export function registerRadarCommand(program: Command, io: CliIo): void {
  const radar = program.command('radar').description('The research radar: feeds sorted into subjects by parallel agents, a dated digest, corrections as eval cases');
  // The digest is the default subcommand (`gauntlet radar --feeds …`), so `radar correct` and
  // `radar cases` keep their own options rather than the digest's.
  radar
    .command('digest', { isDefault: true })
    .description('Read feeds, sort new items into subjects with parallel agents and write a dated Markdown/HTML digest')
    .option('--feeds <file>', 'YAML list of feeds (RSS, Atom or arXiv listings; files or URLs)')
    .option('--subjects <file>', 'YAML list of subjects')
    .option('--model <spec>', 'model spec (keyed:FILE for the offline demo)')
    .option('--out <dir>', 'where the digest goes', '.gauntlet/radar')
    .option('--date <yyyy-mm-dd>', 'the digest date (default today, UTC)')
    .option('--concurrency <n>', 'agents in flight', positiveInt('--concurrency'), 8)
    .option('--max-tokens <n>', 'token budget shared by all agents', positiveInt('--max-tokens'))
    .option('--max-wall-ms <n>', 'wall-time budget for all agents', positiveInt('--max-wall-ms'))
    .option('--max-dollars <usd>', 'dollar budget for all agents (needs --price-per-million)', positiveNumber('--max-dollars'))
    .option('--price-per-million <prompt:completion>', 'US dollars per million prompt and completion tokens, e.g. 0.30:1.20', pricePerMillion('--price-per-million'))
    .option('--agent-deadline-ms <n>', 'each agent\'s own time limit', positiveInt('--agent-deadline-ms'))
    .option('--store <path>', 'SQLite store (the agents\' trajectories; the seen-items state sits beside it)', DEFAULT_STORE)
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: RadarFlags) => {
      for (const flag of ['feeds', 'subjects', 'model'] as const) {
        if (!flags[flag]) throw new InputError(`--${flag}`, 'missing', `gauntlet radar --feeds FILE --subjects FILE --model SPEC`);
      }
      const { limits, pricing } = budgetFromFlags(flags);
      const date = flags.date ?? new Date().toISOString().slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) throw new InputError('--date', `'${date}' is not a date`, 'YYYY-MM-DD');
      const { feeds, base } = await loadFeedsFile(flags.feeds);
      const subjects = await loadSubjects(flags.subjects);
      const model = await createAppModel(flags.model, { env: io.env });
      const store = openCliStore(flags.store, io);
      // Ctrl-C cancels the agents but still keeps what was sorted, writes the digest and stores the run.
      const interrupt = abortOnSignal(() => io.stderr('\ninterrupted: cancelling the agents; what was sorted is kept (a second Ctrl-C stops at once)\n'));
      try {
        const result = await runRadar({
          feeds,
          base,
          subjects,
          model,
          store,
          statePath: stateFileBeside(flags.store, STATE_FILE),
          date,
          concurrency: flags.concurrency,
          limits,
          ...(pricing ? { pricing } : {}),
          ...(flags.agentDeadlineMs ? { agentDeadlineMs: flags.agentDeadlineMs } : {}),
          signal: interrupt.signal,
        });
        const paths = await writeDigest(result, flags.out);
        if (flags.json) printJson(io, { ...result, digest: paths });
        else report(io, result, paths);
        const incomplete = result.unsorted.length + result.sections.filter((s) => s.digest === null).length;
        if (result.interrupted) throw new InterruptedError(`interrupted: run ${result.runId} stored; ${result.unsorted.length} unsorted item${result.unsorted.length === 1 ? '' : 's'} are retried on the next run; digest ${paths.markdown}`);
        if (incomplete > 0) {
          io.stderr(`gauntlet: ${incomplete} agent${incomplete === 1 ? '' : 's'} produced nothing (listed in the digest); unsorted items are retried on the next run\n`);
          process.exitCode = 1;
        }
      } finally {
        interrupt.dispose();
        store.close();
        await model.close?.();
      }
    });

  radar
    .command('correct')
    .description('Correct the subject of an item the radar has seen; corrections become eval cases (`radar cases`)')
    .requiredOption('--item <key>', 'the item key (from `gauntlet radar --json`)')
    .requiredOption('--subject <id>', 'the right subject (or none)')
    .requiredOption('--subjects <file>', 'YAML list of subjects')
    .option('--by <name>', 'who corrected it', 'unknown')
    .option('--store <path>', 'SQLite store the radar used', DEFAULT_STORE)
    .action(async (flags: { item: string; subject: string; subjects: string; by: string; store: string }) => {
      const correction = await correctSubject({
        statePath: stateFileBeside(flags.store, STATE_FILE),
        correctionsPath: stateFileBeside(flags.store, CORRECTIONS_FILE),
        key: flags.item,
        subject: flags.subject,
        subjects: await loadSubjects(flags.subjects),
        by: flags.by,
      });
      io.stdout(`${safeText(correction.title)}: ${correction.from} → ${correction.to}\n`);
    });

  radar
    .command('cases')
    .description('Write the radar\'s eval cases (labelled items + corrections) as a question-set tasks file')
    .requiredOption('--subjects <file>', 'YAML list of subjects')
    .requiredOption('--out <file>', 'the tasks file to write (run it with `gauntlet run --tasks-file FILE`, or list it under `taskFiles:` in an eval suite)')
    .option('--labelled <file>', 'YAML `items: [{ title, link, summary, subject }]`')
    .option('--no-corrections', 'leave out the stored corrections')
    .option('--store <path>', 'SQLite store the radar used', DEFAULT_STORE)
    .action(async (flags: { subjects: string; out: string; labelled?: string; corrections: boolean; store: string }) => {
      const labelled = flags.labelled ? await loadYaml(flags.labelled, LabelledItems, 'a YAML file with `items: [{ title, link, summary, subject }]`') : undefined;
      const corrections = flags.corrections ? await readCorrections(stateFileBeside(flags.store, CORRECTIONS_FILE)) : [];
      const tasks = radarCases({ subjects: await loadSubjects(flags.subjects), ...(labelled ? { labelled } : {}), corrections });
      if (tasks.length === 0) throw new InputError('radar cases', 'no labelled items and no corrections', '--labelled FILE or corrections made with `gauntlet radar correct`');
      await writeTasksFile(flags.out, tasks, { header: 'Generated by `gauntlet radar cases`: the radar\'s subject classifier as question-set tasks.', merge: false });
      io.stdout(`wrote ${tasks.length} case${tasks.length === 1 ? '' : 's'} to ${flags.out}\n`);
    });
}

function report(io: CliIo, result: RadarResult, paths: { markdown: string; html: string }): void {
  const sorted = result.sections.reduce((n, s) => n + s.items.length, 0) + result.unassigned.length;
  io.stdout(`radar ${result.date} (run ${result.runId})\n`);
  io.stdout(`  read ${result.read.entries} entries from ${result.read.feeds} feeds; skipped ${result.read.skipped} bad input${result.read.skipped === 1 ? '' : 's'}\n`);
  io.stdout(`  ${result.duplicates.seenBefore} seen before, ${result.duplicates.inThisBatch} duplicate${result.duplicates.inThisBatch === 1 ? '' : 's'} in this batch, ${sorted} new sorted, ${result.unsorted.length} not sorted\n`);
  for (const section of result.sections) io.stdout(`  ${section.subject.id}: ${section.items.length} item${section.items.length === 1 ? '' : 's'}${section.digest === null ? ` (no digest: ${safeText(section.failure ?? '')})` : ''}\n`);
  if (result.unassigned.length > 0) io.stdout(`  none: ${result.unassigned.length}\n`);
  for (const p of result.read.problems) io.stderr(`skipped ${safeText(p.where)}: ${safeText(p.message)}\n`);
  io.stdout(`  tokens ${result.budget.spent.tokens}${result.budget.spent.estimatedCalls > 0 ? ` (estimated for ${result.budget.spent.estimatedCalls} calls)` : ''}${result.budget.spent.dollars > 0 ? `, $${result.budget.spent.dollars.toFixed(4)}` : ''}${result.budget.exhausted ? `; budget spent (${result.budget.exhausted})` : ''}\n`);
  io.stdout(`  digest: ${paths.markdown}, ${paths.html}\n`);
}
