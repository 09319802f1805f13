import { once } from 'node:events';
import type { Command } from 'commander';
import { InputError, recordedSpend, type AttemptsSpend, type Rollout, type Run, type RunSummaryCounts } from '../../core/index.ts';
import { transcriptOf } from '../../review/index.ts';
import { tasksOfRun, type RunSummary } from '../../runner/index.ts';
import { GATEWAY_ENV } from '../../training/gateway/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { causeLine, indentedLines, printJson, processIo, safeText, type CliIo } from '../io.ts';
import { openStoreToRead } from '../store.ts';
import { spentText, summaryJson, unscoredText } from './run.ts';
import { positiveInt } from '../options.ts';
import { registerRunDeletionCommands } from './runs-delete.ts';

function requireRun(store: SqliteStore, runId: string) {
  const run = store.getRun(runId);
  if (!run) throw new InputError('RUN_ID', `no run "${runId}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
  return run;
}

/** A scored rollout's outcome: its verdict, or, where it has none (a gateway client reported only a reward), its score. */
function scoredOutcome(r: Rollout): string {
  if (r.passed !== null) return r.passed ? 'PASS' : 'fail';
  return r.score === null ? 'unjudged' : `reward ${Number(r.score.toFixed(3))}`;
}

/** One rollout on one line; `withCause: false` leaves the error's cause to be shown whole below it. */
function rolloutLine(r: Rollout, withCause = true): string {
  const outcome = r.status === 'scored' ? scoredOutcome(r) : r.status.toUpperCase();
  const failed = r.verifier?.checks.filter((c) => !c.passed).map((c) => c.name) ?? [];
  // The reasons often follow the first line of a cause ("… is not valid mail state:\n<field>: …"): joined, not cut.
  const why = r.error ? (withCause ? ` — ${r.error.source}: ${causeLine(r.error.message)}` : '') : failed.length ? ` — failed: ${failed.join(', ')}` : '';
  return `  ${outcome.padEnd(11)} ${r.taskId} #${r.epoch}  ${r.terminationReason}, ${r.stats.turns} turns, ${r.stats.toolCalls} tool calls, ${(r.durationMs / 1000).toFixed(1)}s${spentOf(r)}${why}`;
}

/** "; 1,234 tokens over 2 attempts": what the rollout cost, every attempt included, when it cost anything or was retried. */
function spentOf(r: Rollout): string {
  const spent = recordedSpend(r);
  const tokens = spent.promptTokens + spent.completionTokens;
  if (tokens === 0 && spent.attempts <= 1) return '';
  return `; ${tokens.toLocaleString('en-US')} token${tokens === 1 ? '' : 's'}${spent.attempts > 1 ? ` over ${spent.attempts} attempts` : ''}`;
}

/**
 * The run's summary from its counts (`Store.runSummaryCounts`): what `summarise` (src/runner/run.ts)
 * makes of the list of its rollouts, without reading them all.
 */
export function summaryOfCounts(run: Pick<Run, 'id' | 'status'>, counts: RunSummaryCounts, extra: { expected: number; spent: AttemptsSpend }): RunSummary {
  const { scored } = counts.byStatus;
  const pooled = scored > 0 ? counts.passed / scored : 0;
  return {
    runId: run.id,
    status: run.status,
    rollouts: counts.rollouts,
    scored,
    infraErrors: counts.byStatus.infra_error,
    errors: counts.byStatus.error,
    cancelled: counts.byStatus.cancelled,
    passed: counts.passed,
    passRate: pooled,
    pooledPassRate: pooled,
    taskMeanPassRate: counts.taskMeanPassRate ?? 0,
    meanScore: scored > 0 ? counts.scoreSum / scored : 0,
    terminationReasons: { ...counts.terminationReasons },
    missing: Math.max(0, extra.expected - counts.rollouts),
    durationMs: 0,
    errorRollouts: counts.errorRollouts.map((r) => ({ id: r.id, taskId: r.taskId, epoch: r.epoch, source: r.error?.source ?? 'gauntlet', message: r.error?.message ?? '' })),
    spent: extra.spent,
  };
}

/**
 * The pass rates over the scored rollouts with a verdict, and the mean score over those with a
 * score: a gateway rollout finished with only a reward (or nothing) has neither failed nor scored
 * 0, so it must not pull either figure down. null where no rollout has one. Where every scored
 * rollout has both, these are the summary's own figures.
 */
function overVerdicts(summary: RunSummary, counts: RunSummaryCounts) {
  const { judged, withScore } = counts;
  const rate = (value: number | null) => (judged > 0 ? value : null);
  return {
    judged,
    withScore,
    withoutVerdict: summary.scored - judged,
    passed: counts.passed,
    passRate: rate(counts.passed / judged),
    pooledPassRate: rate(counts.passed / judged),
    taskMeanPassRate: rate(counts.taskMeanJudgedPassRate),
    // Every scored score added in order, a missing one as 0: the same total as those with a score added alone.
    meanScore: withScore > 0 ? counts.scoreSum / withScore : null,
  };
}

/** `show --json`'s summary: the run's, its figures over the rollouts with a verdict or a score. */
function summaryOverVerdicts(summary: RunSummary, counts: RunSummaryCounts) {
  if (summary.scored === 0) return { ...summaryJson(summary), withoutVerdict: 0 };
  const { judged: _judged, withScore: _withScore, ...figures } = overVerdicts(summary, counts);
  return { ...summary, ...figures };
}

/** The summary line's figures: pass rate over the rollouts with a verdict, mean over those with a score, each saying what it left out. */
function figuresText(summary: RunSummary, counts: RunSummaryCounts): string {
  if (summary.scored === 0) return `no pass rate: ${unscoredText(summary, null)}`;
  const { judged, withScore, withoutVerdict, passRate, meanScore } = overVerdicts(summary, counts);
  const plural = (n: number) => `${n} rollout${n === 1 ? '' : 's'}`;
  const rate =
    passRate === null
      ? 'no pass rate: no scored rollout has a pass/fail verdict'
      : `pass rate ${(passRate * 100).toFixed(1)}%${withoutVerdict > 0 ? ` (over the ${plural(judged)} with a verdict; ${withoutVerdict} scored without one)` : ''}`;
  const mean = meanScore === null ? 'no score reported' : `mean score ${meanScore.toFixed(3)}${withScore < summary.scored ? ` (over the ${plural(withScore)} with a score)` : ''}`;
  return `${rate}, ${mean}`;
}

/** Why a run's task definitions are not in the store, where they are not. */
function noStoredTasksNote(run: Run): string {
  // A gateway records rollouts of agent programs outside Gauntlet: their tasks were never Gauntlet's to store.
  if (run.config.envs.includes(GATEWAY_ENV)) return 'note: this run was recorded through a gateway (`gauntlet gateway --run`); its tasks are the outside agent program\'s, so none are stored';
  return "note: this run stored no tasks (an older Gauntlet wrote it); counts use today's task definitions";
}

export function registerInspectCommands(program: Command, io: CliIo): void {
  const runs = program
    .command('runs')
    .description('List stored runs, newest first; `runs delete` and `runs prune` remove runs')
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'JSON array on stdout')
    .action((flags: { limit: number; store: string; json?: boolean }) => {
      const store = openStoreToRead(flags.store);
      try {
        const runs = store.listRuns(flags.limit);
        // A run stays 'running' in the store when its process was killed: whether one still executes it is the lease's to say.
        const executing = (r: Run) => (r.status === 'running' ? store.leaseHolder(r.id)?.alive === true : undefined);
        if (flags.json) return printJson(io, runs.map((r) => ({ id: r.id, createdAt: r.createdAt, status: r.status, ...(r.status === 'running' ? { executing: executing(r) } : {}), envs: r.config.envs, model: r.config.model, epochs: r.config.epochs })));
        if (runs.length === 0) io.stdout(`no runs in ${store.path}\n`);
        for (const r of runs) {
          const stale = executing(r) === false ? `  (no process executes it: resume with --resume ${r.id})` : '';
          io.stdout(`${r.id}  ${r.status.padEnd(11)} ${r.config.envs.join(',')}  ${r.config.model}  epochs ${r.config.epochs}${stale}\n`);
        }
      } finally {
        store.close();
      }
    });
  // `runs delete --json`: the flags after a subcommand are its own, not the listing's.
  program.enablePositionalOptions();
  runs.enablePositionalOptions();
  registerRunDeletionCommands(runs, io);

  program
    .command('show')
    .description('Summarise a run, or show one rollout with its model calls')
    .argument('<runId>')
    .option('--rollout <id>', 'show this rollout\'s trajectory')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'JSON on stdout')
    .action(async (runId: string, flags: { rollout?: string; store: string; json?: boolean }) => {
      const store = openStoreToRead(flags.store);
      try {
        const run = requireRun(store, runId);
        if (flags.rollout) return showRollout(io, store, run.id, flags.rollout, flags.json);
        // Counted by the store, then listed page by page: a run of 200k rollouts is never held whole.
        await store.readSnapshot(async () => {
          const tasks = tasksOfRun(store, run.id, run.config);
          const counts = store.runSummaryCounts(run.id);
          const summary = summaryOfCounts(run, counts, { expected: tasks.tasks.length * run.config.epochs, spent: store.runSpend(run.id) });
          const out = chunkedOutput(io);
          try {
            if (flags.json) return await printJsonWithList(out, { run, summary: summaryOverVerdicts(summary, counts), taskSource: tasks.source, taskDrift: tasks.drift }, 'rollouts', store.eachRollout(run.id));
            const stale = run.status === 'running' && store.leaseHolder(run.id)?.alive !== true ? `; no process executes it: resume with --resume ${run.id}` : '';
            out.write(`run ${run.id} (${run.status}${stale}) created ${run.createdAt}\n`);
            out.write(`  envs ${run.config.envs.join(', ')} · model ${run.config.model} · scaffold ${run.config.scaffold} · epochs ${run.config.epochs} · seed ${run.config.seed}\n`);
            out.write(`  ${summary.rollouts} rollouts${summary.missing ? ` (${summary.missing} missing)` : ''}: ${summary.scored} scored, ${summary.infraErrors} infra errors, ${summary.errors} errors; ${figuresText(summary, counts)}\n`);
            if (summary.spent && summary.spent.modelCalls > 0) out.write(`  ${spentText(summary.spent, summary.rollouts)}\n`);
            if (tasks.source === 'current') out.write(`  ${noStoredTasksNote(run)}\n`);
            for (const d of tasks.drift) out.write(`  note: task ${d.taskId} has ${d.change === 'changed' ? 'changed' : 'been removed'} since this run; it ran the stored version\n`);
            out.write('\n');
            for (const r of store.eachRollout(run.id)) if (out.write(`${rolloutLine(r)}\n    ${r.id}\n`)) await out.flush();
            if (summary.errors > 0) process.exitCode = 1;
          } finally {
            // What was listed before a damaged record stopped the listing is still shown, above its error.
            await out.flush();
          }
        });
      } finally {
        store.close();
      }
    });
}

/** Output gathered into writes of about 64 KiB (a write per rollout costs a system call each), each let out once there is room for it. */
export interface ChunkedOutput {
  /** Gathers `text`; true once a chunk is ready for `flush`. */
  write(text: string): boolean;
  flush(): Promise<void>;
}

function chunkedOutput(io: CliIo): ChunkedOutput {
  let pending = '';
  const toStdout = io.stdout === processIo.stdout;
  return {
    write: (text) => {
      pending += text;
      return pending.length >= 65_536;
    },
    flush: async () => {
      if (pending) io.stdout(pending);
      pending = '';
      // Written to a pipe, stdout queues what its reader has not taken yet in memory: the listing waits for room instead.
      if (toStdout && process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
    },
  };
}

/**
 * What `printJson` prints of `head` with `key: [...items]` last, byte for byte, each item printed
 * as it is read: the whole document of a 200k-rollout run is never one string.
 */
export async function printJsonWithList(out: ChunkedOutput, head: Record<string, unknown>, key: string, items: Iterable<unknown>): Promise<void> {
  const empty = `${JSON.stringify({ ...head, [key]: [] }, null, 2)}\n`;
  // The list is the last member, at depth 1: its items are indented by 4 and its closing bracket by 2.
  const emptyList = '[]\n}\n';
  out.write(empty.slice(0, -emptyList.length));
  let first = true;
  for (const item of items) {
    // Nested two deep, JSON.stringify indents the item as the whole document would; the wrappers are cut off.
    const nested = JSON.stringify([[item]], null, 2);
    if (out.write(`${first ? '[\n' : ',\n'}${nested.slice(6, -6)}`)) await out.flush();
    first = false;
  }
  out.write(first ? emptyList : '\n  ]\n}\n');
  await out.flush();
}

function showRollout(io: CliIo, store: SqliteStore, runId: string, rolloutId: string, json?: boolean): void {
  const rollout = store.getRollout(rolloutId);
  if (!rollout) throw new InputError('--rollout', `no rollout "${rolloutId}"`, 'an id from `gauntlet show RUN_ID`');
  // Shown under another run's id, a rollout would pass for that run's.
  if (rollout.runId !== runId) throw new InputError('--rollout', `rollout ${rolloutId} belongs to run ${rollout.runId}, not ${runId}`, `an id from \`gauntlet show ${runId}\`, or \`gauntlet show ${rollout.runId} --rollout ${rolloutId}\``);
  const calls = store.modelCalls(rolloutId).filter((c) => c.attempt === rollout.attempt);
  const detections = store.detections(rolloutId).find((d) => d.attempt === rollout.attempt) ?? null;
  const events = store.events(rolloutId).filter((e) => e.attempt === rollout.attempt);
  if (json) return printJson(io, { rollout, modelCalls: calls, events, detections });
  io.stdout(`${rolloutLine(rollout, false)}\n`);
  if (rollout.error) io.stdout(`  cause (${rollout.error.source}): ${indentedLines(rollout.error.message, '    ')}\n`);
  io.stdout('\n');
  // The turns with what answered each: the last turn's tool results are in no later prompt, only in the events.
  const found = transcriptOf({ calls, events, attempt: rollout.attempt });
  const transcript = found ? [...found.prompt, ...found.steps.flatMap((s) => s.messages)] : (calls.filter((c) => c.purpose === 'turn').at(-1)?.request.messages ?? []);
  // Model and tool text is untrusted: no escape sequence reaches the terminal.
  for (const m of transcript) {
    if (m.role === 'assistant') {
      if (m.reasoning) io.stdout(`  [thinking] ${safeText(m.reasoning.text.slice(0, 400))}\n`);
      if (m.content) io.stdout(`  assistant: ${safeText(m.content)}\n`);
      for (const c of m.toolCalls) io.stdout(`  → ${safeText(c.name)}(${safeText(c.argumentsText)})\n`);
    } else if (m.role === 'tool') io.stdout(`  ← ${safeText(m.name)}${m.isError ? ' ERROR' : ''}: ${safeText(m.content.slice(0, 300).replace(/\n/g, ' '))}\n`);
    else io.stdout(`  ${m.role}: ${safeText(m.content.slice(0, 600))}\n`);
  }
  if (rollout.verifier) {
    io.stdout('\n  checks:\n');
    for (const c of rollout.verifier.checks) io.stdout(`    ${c.passed ? '✓' : '✗'} ${c.kind} ${safeText(c.name)}${c.detail ? ` — ${safeText(c.detail)}` : ''}\n`);
  }
  if (rollout.rewardTerms.length > 0) {
    io.stdout('\n  reward terms:\n');
    for (const t of rollout.rewardTerms) io.stdout(`    ${safeText(t.name)} = ${t.value} × ${t.weight} (${t.source})\n`);
  }
  if (detections) {
    io.stdout(`\n  detector flags (${detections.detectors.length} detectors ran ${detections.createdAt}):\n`);
    if (detections.flags.length === 0) io.stdout('    none\n');
    for (const f of detections.flags) io.stdout(`    ${f.severity.toUpperCase().padEnd(6)} ${f.category} by ${safeText(f.detector)} at call ${f.evidence.callIndex}: ${safeText(f.evidence.excerpt.slice(0, 200))}\n`);
    if (detections.monitor?.status === 'infra_error') io.stdout(`    monitor failed (not judged): ${safeText(detections.monitor.message)}\n`);
    for (const r of detections.review) io.stdout(`    for review: ${r.category} (${r.disagreement.replace('_', ' ')})\n`);
  }
}
