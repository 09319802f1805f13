// A run is executed by one process at a time: the executing process holds a lease row, renewed
// while it runs. A second process refuses while the holder is alive; a holder that died (on this
// host: its pid is gone; elsewhere: it stopped renewing for a TTL) is replaced.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { InputError, type LeaseHolder, type RunId, type RunLease } from '../core/index.ts';

export interface LeaseOptions {
  /** A lease not renewed for this long is free (a holder on another machine that died). */
  ttlMs?: number;
  now?: () => number;
  /** Who takes the lease; this process on this host by default (tests stand in for another process). */
  holder?: { host: string; pid: number };
}

interface LeaseRow {
  owner: string;
  host: string;
  pid: number;
  pid_started: string | null;
  renewed_at: number;
  ttl_ms: number;
}

const DEFAULT_TTL_MS = 60_000;

/** The process's start time from /proc (Linux), so a recycled pid is not mistaken for the holder. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts from after the parenthesised command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch (_error) {
    return null;
  }
}

function alive(row: LeaseRow): boolean {
  try {
    process.kill(row.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = processStart(row.pid);
  return row.pid_started === null || started === null || started === row.pid_started;
}

/** Whether the lease row's holder still executes the run: on this host its pid tells, elsewhere only its renewals do. */
function holderAlive(row: LeaseRow, host: string, now: number): boolean {
  return row.host === host ? alive(row) : now - row.renewed_at < row.ttl_ms;
}

/** Who holds a run's lease, and whether that process still executes it; null when nobody took it or it was released. */
export function leaseHolder(db: Database.Database, runId: RunId, options: LeaseOptions = {}): LeaseHolder | null {
  const row = db.prepare(`SELECT * FROM run_leases WHERE run_id = ?`).get(runId) as LeaseRow | undefined;
  if (!row) return null;
  const now = (options.now ?? Date.now)();
  return { host: row.host, pid: row.pid, renewedAt: new Date(row.renewed_at).toISOString(), alive: holderAlive(row, options.holder?.host ?? hostname(), now) };
}

/** The runs of this store a live process executes now, each with who holds its lease. */
export function executingRuns(db: Database.Database, options: LeaseOptions = {}): { runId: RunId; holder: LeaseHolder }[] {
  const ids = db.prepare(`SELECT run_id FROM run_leases ORDER BY run_id`).pluck().all() as RunId[];
  return ids.flatMap((runId) => {
    const holder = leaseHolder(db, runId, options);
    return holder?.alive ? [{ runId, holder }] : [];
  });
}

export function acquireLease(db: Database.Database, runId: RunId, options: LeaseOptions = {}): RunLease {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const host = options.holder?.host ?? hostname();
  const pid = options.holder?.pid ?? process.pid;
  const owner = `${host}:${pid}:${now()}`;
  db.transaction(() => {
    // A run deleted after the caller read it (`gauntlet runs delete` in another process) must not be executed again into orphan rows.
    if (db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) === undefined) {
      throw new InputError('run', `run ${runId} is no longer in the store (it was deleted)`, 'a run id shown by `gauntlet runs`');
    }
    const row = db.prepare(`SELECT * FROM run_leases WHERE run_id = ?`).get(runId) as LeaseRow | undefined;
    if (row) {
      const heldHere = row.host === host;
      // On this host the holder's pid tells; elsewhere only its renewals do.
      const held = (!heldHere || row.pid !== pid) && holderAlive(row, host, now());
      if (held) {
        const ago = Math.round((now() - row.renewed_at) / 1000);
        throw new InputError(
          'run',
          `run ${runId} is being executed by process ${row.pid} on ${row.host} (lease renewed ${ago} s ago); two processes must not run the same rollouts`,
          heldHere ? 'that process to finish (or stop it), then --resume' : `that process to finish, or its lease to expire ${Math.ceil(row.ttl_ms / 1000)} s after its last renewal`,
        );
      }
    }
    db.prepare(
      `INSERT INTO run_leases (run_id, owner, host, pid, pid_started, renewed_at, ttl_ms) VALUES (?,?,?,?,?,?,?)
       ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
         pid_started = excluded.pid_started, renewed_at = excluded.renewed_at, ttl_ms = excluded.ttl_ms`,
    ).run(runId, owner, host, pid, processStart(pid), now(), ttlMs);
  }).immediate();
  const renew = db.prepare(`UPDATE run_leases SET renewed_at = ? WHERE run_id = ? AND owner = ?`);
  const release = db.prepare(`DELETE FROM run_leases WHERE run_id = ? AND owner = ?`);
  const timer = setInterval(() => {
    try {
      renew.run(now(), runId, owner);
    } catch (_error) {
      // A failing store is reported by the writes that matter; a missed renewal only shortens the lease.
    }
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  let released = false;
  return {
    runId,
    owner,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        release.run(runId, owner);
      } catch (_error) {
        // The store is closed or failing; the lease then expires by itself.
      }
    },
  };
}
