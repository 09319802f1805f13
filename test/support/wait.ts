/** How often a condition without an event of its own (a process table, a session list) is looked at again. */
const POLL_MS = 5;

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. For state reached asynchronously (sessions closing, processes dying). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
