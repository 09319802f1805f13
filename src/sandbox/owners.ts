// Which Gauntlet process owns a leftover (a work-dir folder, a cgroup): each is named after its
// owner's pid and kernel start time, `<pid>-<start time>`, so a reused pid never passes for the
// dead owner, and nothing inside a sandbox can change the record.
import { readFileSync } from 'node:fs';

export const OWNER_NAME = /^(\d+)-(\d+)$/;

interface ProcessStat {
  state: string;
  /** Clock ticks after boot when the process started (field 22 of /proc/<pid>/stat). */
  startTime: string;
}

function readStat(pid: number): ProcessStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, startTime] = [fields[0], fields[19]];
  return state && startTime ? { state, startTime } : null;
}

/** A process's start time, or null when it is gone. */
export function startTimeOf(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/** Whether the process that made a leftover still runs: same pid, same start time, not a zombie. */
export function ownerRunning(pid: number, startTime: string): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether a name is an owner record of a process that no longer runs (names of other shapes: never). */
export function ownerGone(name: string): boolean {
  const owner = OWNER_NAME.exec(name);
  return owner !== null && !ownerRunning(Number(owner[1]), owner[2]!);
}

let own: string | undefined;

/** This process's owner record, or null where /proc cannot tell (not Linux). */
export function ownName(): string | null {
  if (own) return own;
  const self = readStat(process.pid);
  if (!self) return null;
  own = `${process.pid}-${self.startTime}`;
  return own;
}
