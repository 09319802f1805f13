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
 * Only the first of each is caught: another SIGINT ends the process at once. `dispose` stops listening.
 */
export function abortOnSignal(onSignal: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const stop = (): void => {
    onSignal();
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** A command stopped by a signal after storing what it had; the message says how to go on. `main` exits 130. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}
