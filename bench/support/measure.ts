// Watching one measured stretch of work: CPU, event-loop busy time and delay, peak RSS.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface Measure {
  calls: number;
  seconds: number;
  cpuMs: number;
  /** Time the main thread's event loop was busy (the process's CPU also counts other threads). */
  mainBusyMs: number;
  maxStallMs: number;
  peakRssMb: number;
}

/** Runs `work` while watching CPU, event-loop delay and RSS. */
export async function measured(calls: number, work: () => Promise<void>): Promise<Measure> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const utilisation = performance.eventLoopUtilization();
  loop.enable();
  await work();
  loop.disable();
  const busy = performance.eventLoopUtilization(utilisation);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  return { calls, seconds, cpuMs: (used.user + used.system) / 1000, mainBusyMs: busy.active, maxStallMs: loop.max / 1e6, peakRssMb: peak / 2 ** 20 };
}
