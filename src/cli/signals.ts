// How a long-running command (a server) waits to be stopped: the first SIGINT or SIGTERM.

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
