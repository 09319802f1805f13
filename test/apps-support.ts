// Runs the apps' commands in a fresh commander program with captured output.
import { Command, CommanderError } from 'commander';
import { registerFeedbackCommands } from '../src/cli/commands/feedback.ts';
import { registerRadarCommand } from '../src/cli/commands/radar.ts';
import type { CliIo } from '../src/cli/io.ts';
import { InterruptedError } from '../src/cli/signals.ts';
import { InputError } from '../src/core/index.ts';

export interface CliOutcome {
  code: number;
  out: string;
  err: string;
}

export async function appsCli(args: string[]): Promise<CliOutcome> {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const program = new Command().exitOverride().configureOutput({ writeErr: (t) => void (io.err += t), writeOut: (t) => void (io.out += t) });
  registerRadarCommand(program, io);
  registerFeedbackCommands(program, io);
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'gauntlet', ...args]);
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    return { code, out: io.out, err: io.err };
  } catch (error) {
    if (error instanceof InputError) return { code: 2, out: io.out, err: `${io.err}${error.message}` };
    if (error instanceof CommanderError) return { code: 2, out: io.out, err: io.err };
    // As `main` does: a command stopped by Ctrl-C after storing what it had exits 130.
    if (error instanceof InterruptedError) return { code: 130, out: io.out, err: `${io.err}${error.message}` };
    throw error;
  } finally {
    process.exitCode = undefined;
  }
}
