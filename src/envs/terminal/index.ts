// The terminal environment: shell and file work in a sandbox (bwrap where available, else the
// in-process virtual shell), judged on the files left behind and what must not have changed.
import { fileURLToPath } from 'node:url';
import type { Task, ToolInvocation } from '../../core/index.ts';
import { defineEnvironment, type EpisodeContext } from '../define.ts';
import { loadTaskDirectory } from '../tasks.ts';
import { terminalChecks } from './checks.ts';
import { terminalFamilyTasks } from './families/index.ts';
import { seedTerminal, TERMINAL_SCHEMA, TERMINAL_SNAPSHOT_TABLES, TerminalState, terminalSnapshot } from './seed.ts';
import { terminalTools } from './tools.ts';

let cached: Task[] | undefined;

/** Hand-written YAML tasks plus the generated families (the long, many-file ones). */
export function terminalTasks(): Task[] {
  cached ??= [...loadTaskDirectory(fileURLToPath(new URL('./tasks', import.meta.url)), { env: 'terminal' }), ...terminalFamilyTasks()];
  return cached;
}

/** Overwrite every task file, then wipe the work dir: whatever the task wanted, this breaks it. */
export function terminalDestructive({ task }: EpisodeContext): ToolInvocation[] {
  const state = TerminalState.safeParse(task.initialState);
  const paths = state.success ? Object.keys(state.data.files).sort() : [];
  return [
    ...paths.map((path) => ({ tool: 'write_file', arguments: { path, content: 'overwritten\n' } })),
    { tool: 'run_command', arguments: { command: 'rm -rf /work/* /work/.[!.]* 2>/dev/null; true' } },
  ];
}

export const terminal = defineEnvironment({
  name: 'terminal',
  description: 'A Linux shell in a sandbox with a working directory of files (logs, CSVs, configs, source trees, notes). No network.',
  schema: TERMINAL_SCHEMA,
  startTime: '2026-02-02T09:00:00Z',
  stepMs: 15_000,
  sandbox: true,
  seed: seedTerminal,
  initialState: TerminalState,
  tools: terminalTools,
  checks: terminalChecks,
  tasks: terminalTasks,
  destructive: terminalDestructive,
  extraSnapshot: terminalSnapshot,
  extraSnapshotTables: TERMINAL_SNAPSHOT_TABLES,
});

export { terminalChecks } from './checks.ts';
export { terminalTools } from './tools.ts';
export { TerminalState, TERMINAL_SCHEMA } from './seed.ts';
