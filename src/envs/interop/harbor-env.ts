// The `harbor` environment: imported Harbor / Terminal-Bench tasks, run the way their harness runs
// them. The sandbox's work dir is mounted at the image's WORKDIR (e.g. /app), the Dockerfile's
// offline build steps are replayed in it at every reset (so files the image deletes stay deleted),
// and the agent gets the terminal tools with the image's environment and the task's own time limits.
import { z } from 'zod';
import { describeZodIssues, InfraError, type Sandbox, type Task, type ToolInvocation } from '../../core/index.ts';
import { relativeToWorkdir, type SandboxLimits } from '../../sandbox/index.ts';
import { defineEnvironment, defineTool, ToolError, type EnvironmentDefinition, type EpisodeContext } from '../define.ts';
import { ranInSandbox } from '../sandbox-failure.ts';
import { TERMINAL_SCHEMA, TERMINAL_SNAPSHOT_TABLES, terminalSnapshot } from '../terminal/seed.ts';
import { terminalTools } from '../terminal/tools.ts';
import { interopChecks } from './checks.ts';
import { shellQuote } from './dockerfile.ts';
import { HarborState, type BuildStep } from './harbor-state.ts';
import { withAliases } from './image.ts';

const HARBOR_SCHEMA = `${TERMINAL_SCHEMA}
CREATE TABLE build_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  exit_code INTEGER,
  output TEXT NOT NULL
);`;

const DEFAULT_TIMEOUT_SECONDS = 30;
/** Output of a failed build step kept in the build log. */
const LOG_TAIL = 2000;
const MIB = 1024 * 1024;
/** Where archives wait to be unpacked during the build (removed right after). */
const BUILD_SCRATCH = '.harbor-build';

/** What the sandbox must look like for a task: its work dir at the image's WORKDIR, its limits from task.toml. */
export interface HarborSandboxOptions {
  workdir: string;
  limits: SandboxLimits;
  /** The Dockerfile's base image, for sandboxes that run images. */
  image?: string;
  /** The image is the task's whole system: sandboxes that run no images must refuse it. */
  imageOnly?: boolean;
}

export function harborState(task: Task): HarborState {
  const parsed = HarborState.safeParse(task.initialState);
  if (!parsed.success) throw new Error(`task ${task.id}: initialState\n${describeZodIssues(parsed.error.issues, 'initialState')}`);
  return parsed.data;
}

export function harborSandboxOptions(task: Task): HarborSandboxOptions {
  const { workdir, timeouts, resources, image, imageOnly } = harborState(task);
  return {
    workdir,
    ...(image !== undefined ? { image } : {}),
    ...(imageOnly ? { imageOnly } : {}),
    limits: {
      // One command may run as long as the longest phase the task allows (agent, verifier or build).
      timeoutMs: Math.ceil(Math.max(timeouts.agentSec, timeouts.verifierSec, timeouts.buildSec) * 1000),
      memoryBytes: Math.round(resources.memoryMb * MIB),
      diskBytes: Math.round(resources.storageMb * MIB),
    },
  };
}

function sandboxOf(ctx: EpisodeContext): Sandbox {
  if (!ctx.sandbox) throw new Error('harbor: no sandbox in the episode (the environment declares sandbox: true)');
  return ctx.sandbox;
}

function logBuild(ctx: EpisodeContext, row: { at: string; kind: string; status: 'ok' | 'failed' | 'timed_out'; exitCode: number | null; output: string }): void {
  ctx.db.prepare('INSERT INTO build_log (at, kind, status, exit_code, output) VALUES (?, ?, ?, ?, ?)').run(row.at, row.kind, row.status, row.exitCode, row.output);
}

function tail(text: string): string {
  return text.length > LOG_TAIL ? `…${text.slice(-LOG_TAIL)}` : text;
}

async function placeFiles(sandbox: Sandbox, step: Extract<BuildStep, { kind: 'files' }>, signal: AbortSignal): Promise<void> {
  for (const file of step.files) {
    if (file.text !== undefined) await sandbox.writeFile(file.path, file.text);
    else {
      // The Sandbox interface writes text; bytes go through base64 on stdin.
      const result = ranInSandbox(
        await sandbox.exec('mkdir -p -- "$(dirname -- "$GAUNTLET_FILE")" && base64 -d > "$GAUNTLET_FILE"', {
          timeoutMs: 60_000,
          signal,
          stdin: file.base64 ?? '',
          env: { GAUNTLET_FILE: file.path },
        }),
        `${step.at}: placing ${file.path}`,
      );
      if (result.exitCode !== 0) throw new Error(`${step.at}: placing ${file.path} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 300)}`);
    }
  }
  const executables = step.files.filter((f) => f.executable).map((f) => shellQuote(f.path));
  if (executables.length > 0) {
    const result = ranInSandbox(await sandbox.exec(`chmod +x -- ${executables.join(' ')}`, { timeoutMs: 30_000, signal }), `${step.at}: chmod`);
    if (result.exitCode !== 0) throw new Error(`${step.at}: chmod failed: ${result.stderr.trim().slice(0, 300)}`);
  }
}

/** The shell command for a step that runs something, with its own timeout budget. */
function buildCommand(step: Exclude<BuildStep, { kind: 'files' }>): { command: string; env: Record<string, string>; cwd?: string; stdin?: string } {
  switch (step.kind) {
    case 'mkdir':
      return { command: `mkdir -p -- ${shellQuote(step.path || '.')}`, env: {} };
    case 'unpack': {
      const archive = `${BUILD_SCRATCH}/${step.name}`;
      return {
        command: `mkdir -p ${BUILD_SCRATCH} ${shellQuote(step.dest || '.')} && base64 -d > ${shellQuote(archive)} && tar -xf ${shellQuote(archive)} -C ${shellQuote(step.dest || '.')}; s=$?; rm -rf ${BUILD_SCRATCH}; exit $s`,
        env: {},
        stdin: step.base64,
      };
    }
    case 'run':
      // The script travels in a variable that is unset before it runs, so it sees a clean environment.
      return {
        command: `s=$GAUNTLET_BUILD_SCRIPT; unset GAUNTLET_BUILD_SCRIPT; exec ${step.shell.map(shellQuote).join(' ')} "$s"`,
        env: { ...step.env, GAUNTLET_BUILD_SCRIPT: step.script },
        ...(step.cwd ? { cwd: step.cwd } : {}),
      };
  }
}

/**
 * Replays the build. A step that fails is logged (table build_log) and the build goes on, as the
 * import promised: whether it mattered is for the oracle to show (`gauntlet import --validate`).
 */
async function seedHarbor(ctx: EpisodeContext): Promise<void> {
  const state = harborState(ctx.task);
  const sandbox = sandboxOf(ctx);
  if (sandbox.workdir !== state.workdir) {
    throw new InfraError(
      'sandbox',
      `task ${ctx.task.id} needs the work dir mounted at ${state.workdir} (its image's WORKDIR); this sandbox mounted it at ${sandbox.workdir}, so the environment did not pass its sandbox options`,
      { retryable: false },
    );
  }
  let budgetMs = state.timeouts.buildSec * 1000;
  for (const step of state.build) {
    if (step.kind === 'files') {
      await placeFiles(sandbox, step, ctx.signal);
      logBuild(ctx, { at: step.at, kind: step.kind, status: 'ok', exitCode: null, output: '' });
      continue;
    }
    if (budgetMs <= 0) {
      logBuild(ctx, { at: step.at, kind: step.kind, status: 'timed_out', exitCode: null, output: `not run: the build used its ${state.timeouts.buildSec} s` });
      continue;
    }
    const { command, env, cwd, stdin } = buildCommand(step);
    const result = ranInSandbox(
      await sandbox.exec(withAliases(command, state.aliases), {
        timeoutMs: budgetMs,
        signal: ctx.signal,
        env,
        ...(cwd ? { cwd } : {}),
        ...(stdin !== undefined ? { stdin } : {}),
      }),
      `${step.at}: build step`,
    );
    budgetMs -= result.durationMs;
    const status = result.timedOut ? 'timed_out' : result.exitCode === 0 ? 'ok' : 'failed';
    logBuild(ctx, { at: step.at, kind: step.kind, status, exitCode: result.exitCode, output: status === 'ok' ? '' : tail(`${result.stdout}${result.stderr}`.trim()) });
  }
}

const pathField = z.string().min(1).describe("File path, relative to the working directory (the task's WORKDIR) or absolute under it.");

function audit(ctx: EpisodeContext, row: { tool: string; target: string; exitCode: number; timedOut: boolean; truncated: boolean }): void {
  ctx.db
    .prepare('INSERT INTO commands (id, tool, target, exit_code, timed_out, truncated, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(ctx.ids.next('cmd'), row.tool, row.target, row.exitCode, row.timedOut ? 1 : 0, row.truncated ? 1 : 0, ctx.clock.now().toISOString());
}

const runCommand = defineTool({
  description:
    "Run a bash command in the task's container (starting in its working directory, no network). Returns the exit code, stdout and stderr; long output is cut.",
  input: z.object({
    command: z.string().min(1).describe('The command line, run with bash -c.'),
    timeoutSeconds: z.number().positive().optional().describe(`Time limit (default ${DEFAULT_TIMEOUT_SECONDS}; at most the task's time limit).`),
  }),
  run: async ({ command, timeoutSeconds }, ctx) => {
    const state = harborState(ctx.task);
    const seconds = timeoutSeconds ?? Math.min(DEFAULT_TIMEOUT_SECONDS, state.timeouts.agentSec);
    if (seconds > state.timeouts.agentSec) throw new ToolError(`timeoutSeconds: at most ${state.timeouts.agentSec} (the task's time limit)`);
    const result = ranInSandbox(
      await sandboxOf(ctx).exec(withAliases(command, state.aliases), { timeoutMs: Math.ceil(seconds * 1000), signal: ctx.signal, env: state.env }),
      'run_command',
    );
    audit(ctx, { tool: 'run_command', target: command, exitCode: result.exitCode, timedOut: result.timedOut, truncated: result.truncated });
    const notes = [result.timedOut ? `(timed out after ${seconds} s)` : '', result.truncated ? '(output cut: too long)' : ''].filter(Boolean);
    return {
      content: [`exit code: ${result.exitCode}${notes.length ? ` ${notes.join(' ')}` : ''}`, `stdout:\n${result.stdout}`, `stderr:\n${result.stderr}`].join('\n'),
      data: { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, truncated: result.truncated, timedOut: result.timedOut },
    };
  },
});

const listFiles = defineTool({
  description: 'List the files (with sizes) under a directory of the working directory, recursively.',
  input: z.object({ path: z.string().default('.').describe('Directory, relative to the working directory (default: all of it).') }),
  run: async ({ path }, ctx) => {
    const sandbox = sandboxOf(ctx);
    const where = relativeToWorkdir(path, sandbox.workdir);
    if (!where.ok) throw new ToolError(`list_files: ${where.error}`);
    const rel = where.rel;
    const files = (await sandbox.listFiles()).filter((f) => rel === '' || f.path === rel || f.path.startsWith(`${rel}/`));
    if (files.length === 0) return `no files under ${path}`;
    const shown = files.slice(0, 2000).map((f) => `${String(f.size).padStart(8)}  ${f.path}`);
    return files.length > shown.length ? `${shown.join('\n')}\n[… ${files.length - shown.length} more]` : shown.join('\n');
  },
});

const readFile = defineTool({
  description: 'Read a text file from the working directory.',
  input: z.object({ path: pathField }),
  run: (input, ctx) => terminalTools.read_file.run(input, ctx),
});

const writeFile = defineTool({
  description: 'Write (create or replace) a text file in the working directory; missing directories are created.',
  input: z.object({ path: pathField, content: z.string() }),
  run: (input, ctx) => terminalTools.write_file.run(input, ctx),
});

/** Overwrite every file the build placed, then empty the work dir. */
function harborDestructive({ task }: EpisodeContext): ToolInvocation[] {
  const state = HarborState.safeParse(task.initialState);
  const paths = state.success ? [...new Set(state.data.build.flatMap((s) => (s.kind === 'files' ? s.files.map((f) => f.path) : [])))].sort() : [];
  return [
    ...paths.map((path) => ({ tool: 'write_file', arguments: { path, content: 'overwritten\n' } })),
    { tool: 'run_command', arguments: { command: 'rm -rf ./* ./.[!.]* 2>/dev/null; true' } },
  ];
}

/** The definition, plus the sandbox options the framework passes to `createSandbox` for each task. */
export const harbor: EnvironmentDefinition & { sandboxOptions(task: Task): HarborSandboxOptions } = {
  ...defineEnvironment({
    name: 'harbor',
    description: "Imported Harbor / Terminal-Bench tasks: a shell in a sandbox built from the task's Dockerfile, graded by the task's own tests. No network.",
    schema: HARBOR_SCHEMA,
    startTime: '2026-02-02T09:00:00Z',
    stepMs: 15_000,
    sandbox: true,
    requiresProcessSandbox: true,
    seed: seedHarbor,
    initialState: HarborState,
    tools: { run_command: runCommand, read_file: readFile, write_file: writeFile, list_files: listFiles, submit: terminalTools.submit },
    checks: interopChecks,
    // Imported tasks live in task files (`gauntlet import`), not in the package.
    tasks: () => [],
    destructive: harborDestructive,
    extraSnapshot: terminalSnapshot,
    extraSnapshotTables: TERMINAL_SNAPSHOT_TABLES,
  }),
  sandboxOptions: harborSandboxOptions,
  overheadMs: (task) => {
    const { timeouts } = harborState(task);
    return Math.ceil((timeouts.buildSec + timeouts.verifierSec) * 1000);
  },
};
