// How commands meet SIGINT and SIGTERM: a server waits for the first one to stop; a command that
// runs rollouts lets in-flight work finish, so its runs are stored as interrupted and can resume.

/** Resolves on the first SIGINT or SIGTERM, and stops listening for both. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * Aborts `signal` on the first SIGINT or SIGTERM, after `onSignal` (which says so on stderr).
 * Only the first signal is caught: a second one of either kind (Ctrl-C, then a supervisor's
 * SIGTERM) ends the process at once, as it would without Gauntlet. `dispose` stops listening.
 */
export function abortOnSignal(onSignal: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const dispose = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  function stop(): void {
    dispose();
    onSignal();
    controller.abort();
  }
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { signal: controller.signal, dispose };
}

/** A command stopped by a signal after storing what it had; the message says how to go on. `main` exits 130. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}
