// Resource limits shared by both backends, with defaults sized for agent tool calls.
import { InputError } from '../core/index.ts';

export interface SandboxLimits {
  /** Longest a single command may run (caps every exec's own `timeoutMs`). */
  timeoutMs?: number;
  /** Bytes of stdout+stderr kept per command; past this the command is killed and marked truncated. */
  maxOutputBytes?: number;
  /**
   * Memory. bwrap: the sum over all of the sandbox's processes where cgroups v2 work (memory.max,
   * no swap), and always the address space of each process (`ulimit -v`).
   */
  memoryBytes?: number;
  /** Processes alive at once (bwrap: RLIMIT_NPROC as an unprivileged uid, and pids.max with cgroups v2). */
  maxProcesses?: number;
  /** CPU time as a number of cores (bwrap with cgroups v2: cpu.max); fractions allowed. */
  cpus?: number;
  /** Size of the work dir (bwrap: tmpfs size where mounting is allowed, else per-file `ulimit -f`). */
  diskBytes?: number;
}

export type ResolvedLimits = Required<SandboxLimits>;

export const DEFAULT_LIMITS: ResolvedLimits = {
  timeoutMs: 120_000,
  maxOutputBytes: 1_000_000,
  memoryBytes: 2 * 1024 ** 3,
  maxProcesses: 256,
  diskBytes: 64 * 1024 ** 2,
  cpus: 2,
};

const MiB = 1024 ** 2;
const TiB = 1024 ** 4;

interface LimitRange {
  min: number;
  max: number;
  /** Every limit but `cpus` is a whole count. */
  whole: boolean;
}

/** What each limit may be. The same for a local sandbox and for a request to a sandbox server. */
export const LIMIT_RANGES: Record<keyof ResolvedLimits, LimitRange> = {
  // setTimeout holds at most 2^31−1 ms; a longer delay fires at once.
  timeoutMs: { min: 1, max: 2 ** 31 - 1, whole: true },
  // Output becomes one string, and over HTTP a JSON string of up to 6 characters a byte: far below V8's limit (~512 Mi characters).
  maxOutputBytes: { min: 1, max: 32 * MiB, whole: true },
  // Less does not start a shell.
  memoryBytes: { min: 16 * MiB, max: TiB, whole: true },
  // Fewer leaves bash retrying forks until its deadline; the kernel allows at most 2^22 pids.
  maxProcesses: { min: 8, max: 2 ** 22, whole: true },
  // cpu.max refuses a quota under 1 ms per 100 ms period.
  cpus: { min: 0.01, max: 1024, whole: false },
  diskBytes: { min: MiB, max: TiB, whole: true },
};

/** "a whole number from 1 to 2147483647": what `key` accepts, for error messages. */
export function limitRangeText(key: keyof ResolvedLimits): string {
  const { min, max, whole } = LIMIT_RANGES[key];
  return `${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`;
}

/** Whether `value` is a valid `key` limit. */
export function isValidLimit(key: keyof ResolvedLimits, value: unknown): value is number {
  const { min, max, whole } = LIMIT_RANGES[key];
  return typeof value === 'number' && Number.isFinite(value) && (!whole || Number.isInteger(value)) && value >= min && value <= max;
}

/** The limits asked for over the defaults; InputError naming the field and its range when one is out of it. */
export function resolveLimits(limits: SandboxLimits = {}): ResolvedLimits {
  const out: ResolvedLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!isValidLimit(key, value)) throw new InputError(`limits.${key}`, `got ${String(value)}`, limitRangeText(key));
    out[key] = value;
  }
  return out;
}

/** The deadline one exec runs under: its own timeout, never past the sandbox's cap. */
export function effectiveTimeout(requestedMs: number, limits: ResolvedLimits): number {
  if (!Number.isFinite(requestedMs) || requestedMs <= 0) return limits.timeoutMs;
  // At least 1 ms: a fraction asked for is not "no time at all".
  return Math.min(Math.max(1, Math.floor(requestedMs)), limits.timeoutMs);
}

/** Keeps at most `max` bytes across stdout and stderr together, in arrival order. */
export class OutputBudget {
  private used = 0;
  truncated = false;
  constructor(private readonly max: number) {}

  /** The part of `chunk` that still fits; sets `truncated` when something was cut. */
  take(chunk: Buffer): Buffer {
    const room = this.max - this.used;
    if (chunk.length <= room) {
      this.used += chunk.length;
      return chunk;
    }
    this.truncated = true;
    this.used = this.max;
    return chunk.subarray(0, Math.max(0, room));
  }
}

/** Cuts a string to `max` UTF-8 bytes without splitting a character. */
export function cutUtf8(text: string, max: number): { text: string; cut: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return { text, cut: false };
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the last character stays whole.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), cut: true };
}
