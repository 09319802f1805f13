/** Largest timer Node can arm: longer delays overflow and fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A delay Node's timers honour: a longer one would overflow and fire after 1 ms, ending at once
 * what was meant to wait weeks. Past ~24.8 days the timer fires then, which no caller waits for.
 */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
