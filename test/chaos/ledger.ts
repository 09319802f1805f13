// What a chaos scenario left behind, counted from the store and the process table: one row of the
// chaos table. The rules every row must satisfy are here too, so the test and `npm run chaos`
// judge the same way.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../src/core/index.ts';
import { sandboxesRoot } from '../../src/sandbox/host-dirs.ts';
import { processesWhere } from '../support/processes.ts';

export interface ChaosRow {
  scenario: string;
  expected: number;
  committed: number;
  duplicated: number;
  lost: number;
  /** Rollouts with a score (committed minus infra errors, defects and cancellations). */
  scored: number;
  infraErrors: number;
  /** Rollouts scored although infrastructure failed in the attempt that counted. Must be 0. */
  scoredDespiteInfra: number;
  /** Processes started by the scenario still alive after it ended, plus sandbox work dirs left on the host. Must be 0. */
  orphans: number;
  /** Anything else the scenario found wrong, in words. */
  notes: string[];
}

export interface LedgerOptions {
  scenario: string;
  store: Pick<Store, 'rollouts' | 'events' | 'modelCalls'>;
  runId: string;
  /** `taskId#epoch` of every rollout the run should hold. */
  expectedKeys: readonly string[];
  /** True when the fault never clears: then no rollout may be scored at all. */
  permanentFault?: boolean;
  orphans: number;
}

/** Counts one scenario's outcome from the store. */
export function ledger(options: LedgerOptions): ChaosRow {
  const { store, runId } = options;
  const rollouts = store.rollouts(runId);
  const keys = new Map<string, number>();
  for (const r of rollouts) keys.set(`${r.taskId}#${r.epoch}`, (keys.get(`${r.taskId}#${r.epoch}`) ?? 0) + 1);
  const notes: string[] = [];
  let duplicated = rollouts.length - keys.size;
  let scoredDespiteInfra = 0;
  for (const r of rollouts) {
    const started = store.events(r.id).filter((e) => e.type === 'rollout_started' && e.attempt === r.attempt).length;
    // Two starts under one attempt number means two executions were merged into one record.
    if (started > 1) {
      duplicated++;
      notes.push(`${r.id}: attempt ${r.attempt} started ${started} times`);
    }
    if (r.status === 'infra_error' && (r.score !== null || r.passed !== null)) scoredDespiteInfra++;
    if (r.status === 'scored') {
      const failedCalls = store.modelCalls(r.id).filter((c) => c.attempt === r.attempt && c.error !== undefined);
      if (options.permanentFault || failedCalls.length > 0) {
        scoredDespiteInfra++;
        notes.push(`${r.id}: scored with ${failedCalls.length} failed model calls in attempt ${r.attempt}`);
      }
    }
  }
  const lost = options.expectedKeys.filter((k) => !keys.has(k)).length;
  const unexpected = [...keys.keys()].filter((k) => !options.expectedKeys.includes(k));
  if (unexpected.length > 0) notes.push(`rollouts nobody asked for: ${unexpected.join(', ')}`);
  return {
    scenario: options.scenario,
    expected: options.expectedKeys.length,
    committed: keys.size,
    duplicated,
    lost,
    scored: rollouts.filter((r) => r.status === 'scored').length,
    infraErrors: rollouts.filter((r) => r.status === 'infra_error').length,
    scoredDespiteInfra,
    orphans: options.orphans,
    notes,
  };
}

/** The reasons a row fails the suite (empty when it passes). */
export function violations(row: ChaosRow): string[] {
  const out: string[] = [];
  if (row.committed !== row.expected) out.push(`${row.committed} of ${row.expected} rollouts committed`);
  if (row.duplicated > 0) out.push(`${row.duplicated} duplicated`);
  if (row.lost > 0) out.push(`${row.lost} lost`);
  if (row.scoredDespiteInfra > 0) out.push(`${row.scoredDespiteInfra} scored despite an infrastructure failure`);
  if (row.orphans > 0) out.push(`${row.orphans} orphan processes`);
  return [...out, ...row.notes];
}

/** `expected` rollout keys for tasks × epochs. */
export function rolloutKeys(taskIds: readonly string[], epochs: number): string[] {
  return taskIds.flatMap((id) => Array.from({ length: epochs }, (_, e) => `${id}#${e}`));
}

/** Pids of every living descendant of `root` (this process by default), read from /proc. */
export function descendants(root = process.pid): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(join('/proc', entry, 'stat'), 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Zombies are gone in all but name; they hold nothing.
      if (fields[0] === 'Z') continue;
      parent.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const visit = (pid: number): void => {
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        visit(child);
      }
    }
  };
  visit(root);
  return out;
}

/** Living processes whose command line has an argument containing `needle`. */
export function processesWith(needle: string): number[] {
  return processesWhere((argv) => argv.some((arg) => arg.includes(needle)));
}

/**
 * Living processes running under the name `name` (their argv[0], as `exec -a` sets it). Unlike
 * processesWith, a launcher that merely carries the name among its arguments does not count.
 */
export function processesNamed(name: string): number[] {
  return processesWhere((argv) => argv[0] === name);
}

/** Sandbox work dirs this process still holds on the host (src/sandbox/host-dirs.ts lays them out). */
export function leftoverSandboxes(): number {
  const root = sandboxesRoot();
  if (!existsSync(root)) return 0;
  return readdirSync(root)
    .filter((owner) => owner.startsWith(`${process.pid}-`))
    .reduce((sum, owner) => sum + readdirSync(join(root, owner)).filter((name) => name.startsWith('sbx-')).length, 0);
}

/**
 * Waits (polling, bounded) until no descendant but those in `keep` lives and no sandbox work dir is
 * left; returns how many of either remain.
 */
export async function settleOrphans(keep: ReadonlySet<number> = new Set(), timeoutMs = 5000): Promise<number> {
  const give = Date.now() + timeoutMs;
  for (;;) {
    const left = descendants().filter((pid) => !keep.has(pid)).length + leftoverSandboxes();
    if (left === 0 || Date.now() > give) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const COLUMNS: [string, (r: ChaosRow) => string | number][] = [
  ['scenario', (r) => r.scenario],
  ['expected', (r) => r.expected],
  ['committed', (r) => r.committed],
  ['duplicated', (r) => r.duplicated],
  ['lost', (r) => r.lost],
  ['scored', (r) => r.scored],
  ['infra errors', (r) => r.infraErrors],
  ['scored despite infra', (r) => r.scoredDespiteInfra],
  ['orphans', (r) => r.orphans],
  ['verdict', (r) => (violations(r).length === 0 ? 'ok' : 'VIOLATION')],
];

/** The chaos table as fixed-width text, one line per scenario. */
export function formatTable(rows: readonly ChaosRow[]): string {
  const cells = [COLUMNS.map(([name]) => name), ...rows.map((r) => COLUMNS.map(([, get]) => String(get(r))))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
}
