// The command line run in this process, its output captured: what most CLI tests need.
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';

/** Runs `gauntlet ARGS` with `env` as its environment (empty by default); its exit code and what it printed. */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '', interactive: false, env } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const code = await main(['node', 'gauntlet', ...args], io);
  // A failing command sets process.exitCode; it must not become the test process's.
  process.exitCode = undefined;
  return { code, out: io.out, err: io.err };
}
