// `gauntlet detect` on a fresh commander program, for the detect command's tests: its captured
// output and the exit code it set, without loading the whole command line.
import { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { registerDetectCommand } from './detect.ts';

export async function detect(args: string[], env: Record<string, string | undefined> = {}): Promise<{ out: string; err: string; code: number }> {
  const io = { out: '', err: '', interactive: false, env } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerDetectCommand(program, io);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  process.exitCode = undefined;
  await program.parseAsync(['node', 'gauntlet', 'detect', ...args]);
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { out: io.out, err: io.err, code };
}
