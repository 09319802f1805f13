import type { Command } from 'commander';
import { InputError, recordedSpend, type Rollout, type Run } from '../../core/index.ts';
import { transcriptOf } from '../../review/index.ts';
import { summarise, tasksOfRun, type RunSummary } from '../../runner/index.ts';
import { GATEWAY_ENV } from '../../training/gateway/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { causeLine, indentedLines, printJson, safeText, type CliIo } from '../io.ts';
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
 * The pass rates over the scored rollouts with a verdict, and the mean score over those with a
 * score: a gateway rollout finished with only a reward (or nothing) has neither failed nor scored
 * 0, so it must not pull either figure down. null where no rollout has one. Where every scored
 * rollout has both, these are the summary's own figures.
 */
function overVerdicts(summary: RunSummary, rollouts: readonly Rollout[]) {
  const scored = rollouts.filter((r) => r.status === 'scored');
  const judged = scored.filter((r) => r.passed !== null);
  const withScore = scored.filter((r) => r.score !== null);
  const overJudged = summarise(summary.runId, summary.status, judged, { expected: 0, durationMs: 0 });
  const rate = (value: number) => (judged.length > 0 ? value : null);
  return {
    judged: judged.length,
    withScore: withScore.length,
    withoutVerdict: scored.length - judged.length,
    passed: overJudged.passed,
    passRate: rate(overJudged.passRate),
    pooledPassRate: rate(overJudged.pooledPassRate),
    taskMeanPassRate: rate(overJudged.taskMeanPassRate),
    meanScore: withScore.length > 0 ? withScore.reduce((sum, r) => sum + r.score!, 0) / withScore.length : null,
  };
}

/** `show --json`'s summary: the run's, its figures over the rollouts with a verdict or a score. */
function summaryOverVerdicts(summary: RunSummary, rollouts: readonly Rollout[]) {
  if (summary.scored === 0) return { ...summaryJson(summary), withoutVerdict: 0 };
  const { judged: _judged, withScore: _withScore, ...figures } = overVerdicts(summary, rollouts);
  return { ...summary, ...figures };
}

/** The summary line's figures: pass rate over the rollouts with a verdict, mean over those with a score, each saying what it left out. */
function figuresText(summary: RunSummary, rollouts: readonly Rollout[]): string {
  if (summary.scored === 0) return `no pass rate: ${unscoredText(summary, null)}`;
  const { judged, withScore, withoutVerdict, passRate, meanScore } = overVerdicts(summary, rollouts);
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
    .action((runId: string, flags: { rollout?: string; store: string; json?: boolean }) => {
      const store = openStoreToRead(flags.store);
      try {
        const run = requireRun(store, runId);
        if (flags.rollout) return showRollout(io, store, run.id, flags.rollout, flags.json);
        const rollouts = store.rollouts(runId);
        const tasks = tasksOfRun(store, run.id, run.config);
        const summary = summarise(run.id, run.status, rollouts, { expected: tasks.tasks.length * run.config.epochs, durationMs: 0, spent: store.runSpend(run.id) });
        if (flags.json) return printJson(io, { run, summary: summaryOverVerdicts(summary, rollouts), taskSource: tasks.source, taskDrift: tasks.drift, rollouts });
        const stale = run.status === 'running' && store.leaseHolder(run.id)?.alive !== true ? `; no process executes it: resume with --resume ${run.id}` : '';
        io.stdout(`run ${run.id} (${run.status}${stale}) created ${run.createdAt}\n`);
        io.stdout(`  envs ${run.config.envs.join(', ')} · model ${run.config.model} · scaffold ${run.config.scaffold} · epochs ${run.config.epochs} · seed ${run.config.seed}\n`);
        io.stdout(`  ${summary.rollouts} rollouts${summary.missing ? ` (${summary.missing} missing)` : ''}: ${summary.scored} scored, ${summary.infraErrors} infra errors, ${summary.errors} errors; ${figuresText(summary, rollouts)}\n`);
        if (summary.spent && summary.spent.modelCalls > 0) io.stdout(`  ${spentText(summary.spent, summary.rollouts)}\n`);
        if (tasks.source === 'current') io.stdout(`  ${noStoredTasksNote(run)}\n`);
        for (const d of tasks.drift) io.stdout(`  note: task ${d.taskId} has ${d.change === 'changed' ? 'changed' : 'been removed'} since this run; it ran the stored version\n`);
        io.stdout('\n');
        for (const r of rollouts) io.stdout(`${rolloutLine(r)}\n    ${r.id}\n`);
        if (summary.errors > 0) process.exitCode = 1;
      } finally {
        store.close();
      }
    });
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
