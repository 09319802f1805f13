// `gauntlet store backup` and `gauntlet store check`: a store that holds weeks of rollouts is
// copied safely while runs write to it, and checked when something looks wrong.
import type { Command } from 'commander';
import { backupStore, checkStore, type StoreCheck, type StoreCounts } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

function countsText(counts: StoreCounts): string {
  return `${counts.runs} runs, ${counts.rollouts} rollouts, ${counts.modelCalls} model calls, ${counts.events} events`;
}

function printCheck(io: CliIo, check: StoreCheck): void {
  const version = check.schemaVersion < check.currentSchemaVersion ? `schema ${check.schemaVersion} (migrated to ${check.currentSchemaVersion} when a command next writes to it)` : `schema ${check.schemaVersion}`;
  io.stdout(`${check.path}: ${mib(check.bytes)} (${mib(check.freeBytes)} free), ${version}, ${check.counts ? countsText(check.counts) : 'too damaged to count its records'}\n`);
  if (check.ok) return io.stdout(`ok (SQLite ${check.sqliteCheck}, links between runs and their records)\n`);
  for (const problem of check.problems) io.stdout(`problem: ${problem}\n`);
  io.stdout(`${check.problems.length} problem${check.problems.length === 1 ? '' : 's'} found\n`);
}

export function registerStoreCommands(program: Command, io: CliIo): void {
  const store = program.command('store').description('Back up or check the SQLite store; safe while runs write to it');

  store
    .command('backup')
    .description('Copy the store to a new file as one consistent snapshot, even while runs write to it; the copy is compacted and checked before it takes its name')
    .argument('<destination>', 'the backup file to write')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--overwrite', 'replace a file already at the destination')
    .option('--json', 'JSON on stdout')
    .action((destination: string, flags: { store: string; overwrite?: boolean; json?: boolean }) => {
      const report = backupStore(flags.store, destination, { overwrite: flags.overwrite === true });
      if (flags.json) return printJson(io, report);
      io.stdout(`backed up ${report.source} to ${report.destination}: ${mib(report.bytes)}, schema ${report.schemaVersion}, ${countsText(report.counts)}, checked (${(report.durationMs / 1000).toFixed(1)} s)\n`);
      io.stdout(`to restore: stop every run and server using the store, then copy ${report.destination} over ${report.source} and remove ${report.source}-wal and ${report.source}-shm\n`);
    });

  store
    .command('check')
    .description("Check a store file without writing to it: SQLite's page check, the schema version, and records whose run or task is missing; exit 1 on any problem")
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--full', "SQLite's full integrity_check (reads every index entry; slower) instead of quick_check")
    .option('--json', 'JSON on stdout')
    .action((flags: { store: string; full?: boolean; json?: boolean }) => {
      const check = checkStore(flags.store, { full: flags.full === true });
      if (flags.json) printJson(io, check);
      else printCheck(io, check);
      if (!check.ok) process.exitCode = 1;
    });

  for (const command of store.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
}
