// `gauntlet runs delete` and `gauntlet runs prune`: keeping a store that collects rollouts for
// weeks to the runs still wanted. Deleting is per run and whole; runs still executing, and runs
// with expert labels unless `--with-labels`, are refused (delete) or kept (prune), and said so.
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import type { RunDeletion, SqliteStore } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { openExistingStore } from '../store.ts';
import { collect } from '../options.ts';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`: how old a run must be for `prune`. */
export function parseAge(flag: string, value: string): number {
  const match = /^(\d+)([mhdw])$/.exec(value.trim());
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(amount) || amount <= 0) throw new InputError(flag, `got "${value}"`, 'a whole number and a unit: m (minutes), h (hours), d (days) or w (weeks), e.g. 30d');
  const ms = amount * UNIT_MS[match[2]!]!;
  // Past this a Date cannot be formed: no run is that old.
  if (ms > 8.64e15) throw new InputError(flag, `got "${value}", longer than dates reach`, 'an age of at most 100,000,000 days');
  return ms;
}

/** A kept run, and why. */
interface KeptRun {
  runId: string;
  reason: 'executing' | 'labelled' | 'refused';
  detail: string;
}

interface DeletionReport {
  deleted: RunDeletion[];
  kept: KeptRun[];
  dryRun: boolean;
  /** The file's size and its free part, before and after (after a vacuum when one ran). */
  space: { before: { bytes: number; freeBytes: number }; after: { bytes: number; freeBytes: number }; vacuumed: boolean };
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

function printReport(io: CliIo, report: DeletionReport, json: boolean | undefined): void {
  if (json) return printJson(io, report);
  const verb = report.dryRun ? 'would delete' : 'deleted';
  for (const d of report.deleted) {
    const counts = `: ${d.rollouts} rollouts, ${d.modelCalls} model calls, ${d.events} events${d.labels ? `, ${d.labels} labels` : ''}${d.reviewQueues ? `, ${d.reviewQueues} review queues` : ''}`;
    io.stdout(`${verb} ${d.runId}${counts}\n`);
  }
  for (const k of report.kept) io.stdout(`kept ${k.runId}: ${k.detail}\n`);
  if (report.deleted.length === 0 && report.kept.length === 0) io.stdout('no run matched\n');
  const { before, after, vacuumed } = report.space;
  if (!report.dryRun && report.deleted.length > 0) {
    io.stdout(
      vacuumed
        ? `store ${mib(before.bytes)} → ${mib(after.bytes)} (vacuumed)\n`
        : `store ${mib(after.bytes)}, of which ${mib(after.freeBytes)} free for new runs (--vacuum gives it back to the disk)\n`,
    );
  }
}

function finish(store: SqliteStore, report: Omit<DeletionReport, 'space'> & { before: DeletionReport['space']['before'] }, vacuum: boolean | undefined): DeletionReport {
  const vacuumed = vacuum === true && !report.dryRun && report.deleted.length > 0;
  if (vacuumed) store.vacuum();
  return { deleted: report.deleted, kept: report.kept, dryRun: report.dryRun, space: { before: report.before, after: store.fileSpace(), vacuumed } };
}

/** `--vacuum` while a run executes is refused before anything is deleted, not after. */
function refuseVacuum(store: SqliteStore, flags: DeleteFlags): void {
  if (!flags.vacuum || flags.dryRun) return;
  const refusal = store.vacuumRefusal();
  if (refusal) throw refusal;
}

interface DeleteFlags {
  store: string;
  dryRun?: boolean;
  withLabels?: boolean;
  vacuum?: boolean;
  json?: boolean;
}

interface PruneFlags extends DeleteFlags {
  olderThan: string;
  status: string[];
}

const STATUSES = ['running', 'finished', 'interrupted'] as const;

export function registerRunDeletionCommands(runs: Command, io: CliIo): void {
  runs
    .command('delete')
    .description('Delete runs and everything recorded for them (rollouts, model calls, events, findings); refuses a run still executing, or one with expert labels unless --with-labels')
    .argument('<runIds...>')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--with-labels', "also delete the runs' expert labels and review queues")
    .option('--dry-run', 'check and count what would be deleted, delete nothing')
    .option('--vacuum', 'then rewrite the store file so it shrinks (needs as much free disk again)')
    .option('--json', 'JSON on stdout')
    .action((runIds: string[], flags: DeleteFlags) => {
      const store = openExistingStore(flags.store, io);
      try {
        // An id whose run row is gone but whose records are not (a deletion stopped half-way) is finished off.
        const missing = runIds.filter((id) => store.getRun(id) === null && !store.hasRecordsOf(id));
        if (missing.length > 0) throw new InputError('RUN_ID', `no run ${missing.map((id) => `"${id}"`).join(', ')} in ${store.path}`, 'run ids shown by `gauntlet runs`');
        refuseVacuum(store, flags);
        const before = store.fileSpace();
        // One run at a time, each whole: a refusal stops before the next, and what was deleted is reported.
        const deleted: RunDeletion[] = [];
        try {
          for (const id of new Set(runIds)) deleted.push(store.deleteRun(id, { withLabels: flags.withLabels === true, dryRun: flags.dryRun === true }));
        } catch (error) {
          if (deleted.length > 0 && !flags.dryRun) io.stderr(`deleted ${deleted.map((d) => d.runId).join(', ')} before stopping\n`);
          throw error;
        }
        printReport(io, finish(store, { deleted, kept: [], dryRun: flags.dryRun === true, before }, flags.vacuum), flags.json);
      } finally {
        store.close();
      }
    });

  runs
    .command('prune')
    .description('Delete runs older than an age; keeps runs still executing and runs with expert labels (unless --with-labels), and says which')
    .requiredOption('--older-than <age>', 'delete runs created longer ago than this: 30d, 12h, 90m, 2w')
    .option('--status <status>', `only runs with this status (${STATUSES.join(', ')}); repeat or comma-separate`, collect, [])
    .option('--dry-run', 'list and count what would be deleted, delete nothing')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--with-labels', 'also delete runs with expert labels or review queues, and those with them')
    .option('--vacuum', 'then rewrite the store file so it shrinks (needs as much free disk again)')
    .option('--json', 'JSON on stdout')
    .action((flags: PruneFlags) => {
      const ageMs = parseAge('--older-than', flags.olderThan);
      const statuses = flags.status.flatMap((s) => s.split(',')).map((s) => s.trim());
      for (const s of statuses) if (!(STATUSES as readonly string[]).includes(s)) throw new InputError('--status', `got "${s}"`, `one of ${STATUSES.join(', ')}`);
      const store = openExistingStore(flags.store, io);
      try {
        refuseVacuum(store, flags);
        const before = store.fileSpace();
        const cutoff = new Date(Date.now() - ageMs).toISOString();
        const candidates = store.runsCreatedBefore(cutoff).filter((r) => statuses.length === 0 || statuses.includes(r.status));
        const kept: KeptRun[] = [];
        const deleted: RunDeletion[] = [];
        for (const run of candidates) {
          if (run.executing) {
            kept.push({ runId: run.id, reason: 'executing', detail: 'a live process still executes it' });
            continue;
          }
          const { labels, reviewQueues } = run.expertWork;
          if ((labels > 0 || reviewQueues > 0) && flags.withLabels !== true) {
            kept.push({ runId: run.id, reason: 'labelled', detail: `${labels} expert labels, ${reviewQueues} review queues (--with-labels deletes them too)` });
            continue;
          }
          try {
            deleted.push(store.deleteRun(run.id, { withLabels: flags.withLabels === true, dryRun: flags.dryRun === true }));
          } catch (error) {
            // A process took the run, or labelled it, since it was listed: kept, and the next run goes on.
            if (!(error instanceof InputError)) throw error;
            kept.push({ runId: run.id, reason: 'refused', detail: error.message });
          }
        }
        printReport(io, finish(store, { deleted, kept, dryRun: flags.dryRun === true, before }, flags.vacuum), flags.json);
      } finally {
        store.close();
      }
    });

  // Nested commands answer through the CLI's own output and errors, as the top-level ones do.
  for (const command of runs.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
}
