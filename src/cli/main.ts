import { errorMessage, InputError, StoreError } from '../core/index.ts';
import { releaseEnvironmentModules } from './env-modules.ts';
import { processIo, type CliIo } from './io.ts';
import { CommanderError, createProgram } from './program.ts';
import { InterruptedError } from './signals.ts';

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 bad input (the message names the
 * flag, file or field and what was expected), 130 interrupted. Never a bare stack trace.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = createProgram(io);
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (or help/version, which exit 0).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof InputError) {
      io.stderr(`gauntlet: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InterruptedError) {
      io.stderr(`gauntlet: ${error.message}\n`);
      return 130;
    }
    if (error instanceof StoreError) {
      // A store that cannot be used is a bad --store (exit 2); one that failed mid-write is not (exit 1).
      io.stderr(`gauntlet: ${error.message}\n`);
      return error.problem === 'full' || error.problem === 'io' ? 1 : 2;
    }
    // commander wraps errors thrown by option parsers
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof InputError) {
      io.stderr(`gauntlet: ${cause.message}\n`);
      return 2;
    }
    io.stderr(`gauntlet: ${errorMessage(error)}\n`);
    if (io.env.GAUNTLET_DEBUG && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return 1;
  } finally {
    // Environments loaded for this command are not another's (commands run in one process in tests and embeddings).
    releaseEnvironmentModules();
  }
}
