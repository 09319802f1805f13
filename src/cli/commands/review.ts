// `gauntlet review-queue`, `gauntlet review-stats`, `gauntlet export-labels`: the command-line side
// of expert review (the labelling itself happens in the viewer, `gauntlet serve`).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { errorMessage, InputError, parseInput, parseInputText, readInputFile } from '../../core/index.ts';
import {
  createQueue,
  DEFAULT_RESERVATION_MINUTES,
  MIN_RESERVATION_MINUTES,
  exportLabels,
  QueueInput,
  reviewStats,
  Rubric,
  STRATEGIES,
  toJsonl,
  type AgreementBlock,
  type DetectorScore,
  type ExportFormat,
  type LabelAgreement,
  type ReviewStats,
  type Strategy,
  type ZeroSteps,
} from '../../review/index.ts';
import { printJson, safeText, type CliIo } from '../io.ts';
import { nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';
import { openExistingStore, openStoreToRead } from '../store.ts';

function readRubric(file: string): Rubric {
  const text = readInputFile(file, { cannotOpen: (error) => new InputError('--rubric', `cannot read ${file} (${errorMessage(error)})`, 'a YAML or JSON rubric file') });
  const { value } = parseInputText(text, file, { syntax: 'not valid YAML or JSON' });
  return parseInput(Rubric, value, file);
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
const fmt = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '—' : x.toFixed(digits));

function renderAgreement(title: string, block: AgreementBlock): string[] {
  const a = block.alpha;
  const lines = [
    `${title}: Krippendorff's alpha (${a.level}) ${fmt(a.alpha)}${a.ci ? ` [${fmt(a.ci[0])}, ${fmt(a.ci[1])}] ${Math.round(a.confidence * 100)}% bootstrap` : ''}  (${plural(a.units, 'unit')}, ${plural(a.values, 'label')}, ${plural(a.reviewers, 'reviewer')})`,
  ];
  if (a.alpha === null) lines.push(`  alpha undefined: ${a.units === 0 ? 'no unit has labels from two reviewers' : 'every label is the same value'}`);
  for (const k of block.kappa) lines.push(`  Cohen's kappa ${safeText(k.reviewers[0])} × ${safeText(k.reviewers[1])}: ${fmt(k.kappa)} over ${k.n} shared units`);
  return lines;
}

function renderScores(title: string, scores: readonly DetectorScore[]): string[] {
  const used = scores.filter((s) => s.truePositives + s.falsePositives + s.falseNegatives > 0);
  if (used.length === 0) return [`${title}: nothing flagged by detectors or experts`];
  return [
    `${title}:`,
    ...used.map((s) => `  ${s.name.padEnd(28)} precision ${fmt(s.precision, 2)}  recall ${fmt(s.recall, 2)}  (tp ${s.truePositives}, fp ${s.falsePositives}, fn ${s.falseNegatives}, tn ${s.trueNegatives})`),
  ];
}

export function renderReviewStats(stats: ReviewStats): string {
  const scope = stats.scope.queueId ? `queue ${stats.scope.queueId}` : stats.scope.runId ? `run ${stats.scope.runId}` : 'every run';
  return [
    `Review agreement over ${scope}: ${stats.scope.labels} labels by ${stats.scope.reviewers.length} reviewers`,
    ...(stats.scope.staleLabels > 0 ? [`  ${plural(stats.scope.staleLabels, 'label')} left out: about an attempt since replaced by a retry`] : []),
    ...renderAgreement('Verdicts', stats.verdicts),
    ...renderAgreement('Step ratings', stats.steps),
    ...renderAgreement('Preferences', stats.preferences),
    `Detectors against experts: ${stats.detectors.examinedRollouts} of ${plural(stats.detectors.reviewedRollouts, 'reviewed rollout')} examined by detectors`,
    ...(stats.detectors.examinedRollouts === 0
      ? ['  nothing to compare: run `gauntlet detect` over the reviewed runs first']
      : [...renderScores('  by category (expert step flags)', stats.detectors.byCategory), ...renderScores('  by detector (expert reject/unsafe verdicts)', stats.detectors.byDetector)]),
  ].join('\n');
}

export function registerReviewCommands(program: Command, io: CliIo): void {
  program
    .command('review-queue')
    .description('Create a review queue over a run: a sample of rollouts for experts to label in `gauntlet serve`')
    .requiredOption('--run <id>', 'the run to sample')
    .requiredOption('--sample <n>', 'rollouts to put in the queue (fewer when the strategy finds fewer)', positiveInt('--sample', { max: 10_000 }))
    .option('--strategy <name>', `how to pick them: ${STRATEGIES.join(', ')}`, oneOf('--strategy', STRATEGIES), 'random' as Strategy)
    .option('--reviewers-per-item <n>', 'distinct reviewers each rollout needs', positiveInt('--reviewers-per-item', { max: 20 }), 1)
    .option('--rubric <file>', 'YAML or JSON rubric: { fields: [{ name, type: categorical|numeric|boolean|text, … }] }')
    .option('--reservation-minutes <n>', 'how long an item stays with the reviewer who took it', number('--reservation-minutes', { min: 0, max: 7 * 24 * 60 }), DEFAULT_RESERVATION_MINUTES)
    .option('--seed <n>', 'seed for the draw (random when absent; stored with the queue)', nonNegativeInt('--seed', { max: 2 ** 32 - 1 }))
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action(
      (flags: { run: string; sample: number; strategy: Strategy; reviewersPerItem: number; rubric?: string; reservationMinutes: number; seed?: number; store: string; json?: boolean }) => {
        if (flags.reservationMinutes < MIN_RESERVATION_MINUTES) throw new InputError('--reservation-minutes', `got ${flags.reservationMinutes}`, 'at least one second (1/60 of a minute)');
        const rubric = flags.rubric !== undefined ? readRubric(flags.rubric) : undefined;
        const store = openExistingStore(flags.store, io);
        try {
          const settings = parseInput(
            QueueInput,
            {
              runId: flags.run,
              sample: flags.sample,
              strategy: flags.strategy,
              reviewersPerItem: flags.reviewersPerItem,
              reservationMinutes: flags.reservationMinutes,
              ...(rubric ? { rubric } : {}),
              ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
            },
            'review queue',
          );
          let queue;
          try {
            queue = createQueue({ store }, settings);
          } catch (error) {
            const flag: Record<string, string> = { runId: '--run', strategy: '--strategy' };
            throw error instanceof InputError && flag[error.where] ? error.at(flag[error.where]!) : error;
          }
          if (flags.json) printJson(io, queue);
          else {
            io.stdout(`${queue.id}\n`);
            io.stderr(
              `review queue ${queue.id}: ${queue.size} of ${queue.sample} rollouts asked for (${queue.strategy}), ${queue.reviewersPerItem} reviewer${queue.reviewersPerItem === 1 ? '' : 's'} each\n  ${safeText(queue.note ?? '')}\n  label them in \`gauntlet serve --store ${flags.store}\`\n`,
            );
          }
        } finally {
          store.close();
        }
      },
    );

  program
    .command('review-stats')
    .description("Agreement between reviewers (Krippendorff's alpha with a bootstrap interval, Cohen's kappa per pair) and detector precision/recall against experts")
    .option('--run <id>', 'only labels on this run')
    .option('--queue <id>', 'only labels on this queue\'s rollouts')
    .option('--resamples <n>', 'bootstrap resamples', nonNegativeInt('--resamples', { max: 100_000 }), 1000)
    .option('--seed <n>', 'bootstrap seed', nonNegativeInt('--seed'), 0)
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action((flags: { run?: string; queue?: string; resamples: number; seed: number; store: string; json?: boolean }) => {
      const store = openStoreToRead(flags.store);
      try {
        if (flags.run !== undefined && !store.getRun(flags.run)) throw new InputError('--run', `no run "${flags.run}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
        let stats: ReviewStats;
        try {
          stats = reviewStats({ store, resamples: flags.resamples, seed: flags.seed, ...(flags.run !== undefined ? { runId: flags.run } : {}), ...(flags.queue !== undefined ? { queueId: flags.queue } : {}) });
        } catch (error) {
          throw error instanceof InputError && error.where === 'queueId' ? error.at('--queue') : error;
        }
        if (flags.json) printJson(io, stats);
        else io.stdout(`${renderReviewStats(stats)}\n`);
      } finally {
        store.close();
      }
    });

  program
    .command('export-labels')
    .description('Expert labels as training data (JSONL): preferences as DPO {prompt, chosen, rejected}, verdicts as KTO {prompt, completion, label}, step ratings as process reward {prompt, completions, labels}')
    .requiredOption('--format <format>', 'dpo, kto or prm', oneOf('--format', ['dpo', 'kto', 'prm'] as const))
    .option('--zero-steps <mapping>', 'prm only, and required there: a 0-rated step is drop (no label of its own), negative (false) or neutral (null)', oneOf('--zero-steps', ['drop', 'negative', 'neutral'] as const))
    .option('--agreement <rule>', 'all (a row per reviewer\'s labels), majority (a row per rollout or pair, with most reviewers\' label; prm: each step rated as most of its raters rated it) or unanimous (only what every reviewer agrees on)', oneOf('--agreement', ['all', 'majority', 'unanimous'] as const), 'all')
    .option('--run <id>', 'only labels on this run')
    .option('--queue <id>', 'only labels on this queue\'s rollouts')
    .option('--output <file>', 'write here instead of stdout')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .action((flags: { format: ExportFormat; zeroSteps?: ZeroSteps; agreement: LabelAgreement; run?: string; queue?: string; output?: string; store: string }) => {
      if (flags.format === 'prm' && flags.zeroSteps === undefined) throw new InputError('--zero-steps', 'is required with --format prm: a 0-rated step has no default label', 'drop, negative or neutral');
      if (flags.format !== 'prm' && flags.zeroSteps !== undefined) throw new InputError('--zero-steps', `applies to --format prm only, not ${flags.format}`);
      const store = openStoreToRead(flags.store);
      try {
        if (flags.run !== undefined && !store.getRun(flags.run)) throw new InputError('--run', `no run "${flags.run}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
        let result;
        try {
          result = exportLabels({
            store,
            format: flags.format,
            ...(flags.zeroSteps !== undefined ? { zeroSteps: flags.zeroSteps } : {}),
            agreement: flags.agreement,
            ...(flags.run !== undefined ? { runId: flags.run } : {}),
            ...(flags.queue !== undefined ? { queueId: flags.queue } : {}),
          });
        } catch (error) {
          throw error instanceof InputError && error.where === 'queueId' ? error.at('--queue') : error;
        }
        const text = toJsonl(result.rows);
        if (flags.output !== undefined) {
          try {
            writeFileSync(flags.output, text);
          } catch (error) {
            throw new InputError('--output', `cannot write ${flags.output} (${errorMessage(error)})`, 'a file path in a folder that exists and may be written');
          }
        } else io.stdout(text);
        const skipped = Object.entries(result.skipped).map(([reason, n]) => `${n} skipped: ${reason}`);
        io.stderr(`export-labels: ${result.rows.length} ${flags.format} rows${flags.output !== undefined ? ` written to ${flags.output}` : ''}${skipped.length ? `\n  ${skipped.join('\n  ')}` : ''}\n`);
      } finally {
        store.close();
      }
    });
}
