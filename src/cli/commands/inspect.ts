import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { InputError, type Rollout } from '../../core/index.ts';
import { summarise, tasksForConfig } from '../../runner/index.ts';
import { exportRunJsonl, openStore, type SqliteStore } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { oneOf, positiveInt } from '../options.ts';

function requireRun(store: SqliteStore, runId: string) {
  const run = store.getRun(runId);
  if (!run) throw new InputError('RUN_ID', `no run "${runId}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
  return run;
}

function rolloutLine(r: Rollout): string {
  const outcome = r.status === 'scored' ? (r.passed ? 'PASS' : 'fail') : r.status.toUpperCase();
  const failed = r.verifier?.checks.filter((c) => !c.passed).map((c) => c.name) ?? [];
  const why = r.error ? ` — ${r.error.source}: ${r.error.message.split('\n')[0]}` : failed.length ? ` — failed: ${failed.join(', ')}` : '';
  return `  ${outcome.padEnd(11)} ${r.taskId} #${r.epoch}  ${r.terminationReason}, ${r.stats.turns} turns, ${r.stats.toolCalls} tool calls, ${(r.durationMs / 1000).toFixed(1)}s${why}`;
}

export function registerInspectCommands(program: Command, io: CliIo): void {
  program
    .command('runs')
    .description('List stored runs, newest first')
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'JSON array on stdout')
    .action((flags: { limit: number; store: string; json?: boolean }) => {
      const store = openStore(flags.store);
      try {
        const runs = store.listRuns(flags.limit);
        if (flags.json) return printJson(io, runs.map((r) => ({ id: r.id, createdAt: r.createdAt, status: r.status, envs: r.config.envs, model: r.config.model, epochs: r.config.epochs })));
        if (runs.length === 0) io.stdout(`no runs in ${store.path}\n`);
        for (const r of runs) io.stdout(`${r.id}  ${r.status.padEnd(11)} ${r.config.envs.join(',')}  ${r.config.model}  epochs ${r.config.epochs}\n`);
      } finally {
        store.close();
      }
    });

  program
    .command('show')
    .description('Summarise a run, or show one rollout with its model calls')
    .argument('<runId>')
    .option('--rollout <id>', 'show this rollout\'s trajectory')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'JSON on stdout')
    .action((runId: string, flags: { rollout?: string; store: string; json?: boolean }) => {
      const store = openStore(flags.store);
      try {
        const run = requireRun(store, runId);
        if (flags.rollout) return showRollout(io, store, flags.rollout, flags.json);
        const rollouts = store.rollouts(runId);
        let expected = rollouts.length;
        try {
          expected = tasksForConfig(run.config).length * run.config.epochs;
        } catch {
          // the run's environments or tasks changed since; count what is stored
        }
        const summary = summarise(run.id, run.status, rollouts, { expected, durationMs: 0 });
        if (flags.json) return printJson(io, { run, summary, rollouts });
        io.stdout(`run ${run.id} (${run.status}) created ${run.createdAt}\n`);
        io.stdout(`  envs ${run.config.envs.join(', ')} · model ${run.config.model} · scaffold ${run.config.scaffold} · epochs ${run.config.epochs} · seed ${run.config.seed}\n`);
        io.stdout(`  ${summary.rollouts} rollouts${summary.missing ? ` (${summary.missing} missing)` : ''}: ${summary.scored} scored, ${summary.infraErrors} infra errors; pass rate ${(summary.passRate * 100).toFixed(1)}%, mean score ${summary.meanScore.toFixed(3)}\n\n`);
        for (const r of rollouts) io.stdout(`${rolloutLine(r)}\n    ${r.id}\n`);
      } finally {
        store.close();
      }
    });

  program
    .command('export')
    .description('Export a run\'s rollouts with their model calls')
    .argument('<runId>')
    .requiredOption('--format <format>', 'jsonl', oneOf('--format', ['jsonl'] as const))
    .option('--output <file>', 'write here instead of stdout')
    .option('--events', 'include each rollout\'s event log')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .action(async (runId: string, flags: { format: 'jsonl'; output?: string; events?: boolean; store: string }) => {
      const store = openStore(flags.store);
      try {
        requireRun(store, runId);
        const lines = exportRunJsonl(store, runId, { events: Boolean(flags.events) });
        if (!flags.output) {
          for (const line of lines) io.stdout(`${line}\n`);
          return;
        }
        const out = createWriteStream(flags.output);
        let count = 0;
        for (const line of lines) {
          if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
          count++;
        }
        await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
        io.stderr(`wrote ${count} rollouts to ${flags.output}\n`);
      } finally {
        store.close();
      }
    });
}

function showRollout(io: CliIo, store: SqliteStore, rolloutId: string, json?: boolean): void {
  const rollout = store.getRollout(rolloutId);
  if (!rollout) throw new InputError('--rollout', `no rollout "${rolloutId}"`, 'an id from `gauntlet show RUN_ID`');
  const calls = store.modelCalls(rolloutId).filter((c) => c.attempt === rollout.attempt);
  if (json) return printJson(io, { rollout, modelCalls: calls });
  io.stdout(`${rolloutLine(rollout)}\n\n`);
  const last = calls.filter((c) => c.purpose === 'turn').at(-1);
  const transcript = last ? [...last.request.messages, ...(last.response ? [last.response.message] : [])] : [];
  for (const m of transcript) {
    if (m.role === 'assistant') {
      if (m.reasoning) io.stdout(`  [thinking] ${m.reasoning.text.slice(0, 400)}\n`);
      if (m.content) io.stdout(`  assistant: ${m.content}\n`);
      for (const c of m.toolCalls) io.stdout(`  → ${c.name}(${c.argumentsText})\n`);
    } else if (m.role === 'tool') io.stdout(`  ← ${m.name}${m.isError ? ' ERROR' : ''}: ${m.content.slice(0, 300).replace(/\n/g, ' ')}\n`);
    else io.stdout(`  ${m.role}: ${m.content.slice(0, 600)}\n`);
  }
  if (rollout.verifier) {
    io.stdout('\n  checks:\n');
    for (const c of rollout.verifier.checks) io.stdout(`    ${c.passed ? '✓' : '✗'} ${c.kind} ${c.name}${c.detail ? ` — ${c.detail}` : ''}\n`);
  }
}
