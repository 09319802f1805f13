// Watching one measured stretch of work: CPU, event-loop busy time and delay, peak RSS.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface Measure {
  calls: number;
  seconds: number;
  cpuMs: number;
  /** Time the main thread's event loop was busy (the process's CPU also counts other threads). */
  mainBusyMs: number;
  /**
   * CPU the main thread itself used (Linux: /proc/self/task/PID/stat, 10 ms ticks), or null where
   * it cannot be read. Busy time above also counts time the thread was runnable but off its core.
   */
  mainCpuMs: number | null;
  maxStallMs: number;
  peakRssMb: number;
}

/** The main thread's user + system CPU so far, in ms; null off Linux. Its thread id is the process id. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
/** USER_HZ, 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** Runs `work` while watching CPU, event-loop delay and RSS. */
export async function measured(calls: number, work: () => Promise<void>): Promise<Measure> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuMs();
  const started = performance.now();
  const utilisation = performance.eventLoopUtilization();
  loop.enable();
  await work();
  loop.disable();
  const busy = performance.eventLoopUtilization(utilisation);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const mainCpuAfter = mainThreadCpuMs();
  clearInterval(sampler);
  return { calls, seconds, cpuMs: (used.user + used.system) / 1000, mainBusyMs: busy.active, mainCpuMs: mainCpu !== null && mainCpuAfter !== null ? mainCpuAfter - mainCpu : null, maxStallMs: loop.max / 1e6, peakRssMb: peak / 2 ** 20 };
}
