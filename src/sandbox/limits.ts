// Resource limits shared by both backends, with defaults sized for agent tool calls.

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

export function resolveLimits(limits: SandboxLimits = {}): ResolvedLimits {
  const out: ResolvedLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) throw new Error(`sandbox limits.${key}: expected a positive number, got ${String(value)}`);
    // Cores may be fractional (0.5 = half a core); every other limit is a whole count.
    out[key] = key === 'cpus' ? value : Math.floor(value);
  }
  return out;
}

/** The deadline one exec runs under: its own timeout, never past the sandbox's cap. */
export function effectiveTimeout(requestedMs: number, limits: ResolvedLimits): number {
  if (!Number.isFinite(requestedMs) || requestedMs <= 0) return limits.timeoutMs;
  return Math.min(Math.floor(requestedMs), limits.timeoutMs);
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
