import { relative } from 'node:path';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import type { Command } from 'commander';
import { InputError, type Task } from '../../core/index.ts';
import '../../envs/builtins.ts';
import { taskProblems } from '../../envs/task-check.ts';
import { openEpisode } from '../../runner/index.ts';
import { importTaskDirectory, passRuleFrom, serveEnvironmentMcpStdio, writeTasksYaml, type DirectoryImport } from '../../envs/interop/index.ts';
import { validateImportedTasks, type ImportedValidation, type ImportedVerdict } from '../../envs/interop/validate-imported.ts';
import { getEnvironment } from '../../envs/registry.ts';
import { loadTaskFile } from '../../envs/tasks.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, oneOf, positiveInt } from '../options.ts';
import { registerExportTasksCommand } from './export-tasks.ts';

interface ImportFlags {
  out: string;
  json?: boolean;
  passMin?: string[];
  validate?: boolean;
  sandbox?: 'auto' | 'bwrap';
  concurrency: number;
  prebuiltImages?: boolean;
}

function shown(dir: string): string {
  return relative(process.cwd(), dir) || '.';
}

function printImported(io: CliIo, result: DirectoryImport): void {
  for (const { task, adaptations, skipped, missing, caps } of result.imported) {
    io.stdout(`✓ ${task.id}${adaptations.length ? ` (${adaptations.length} adaptation${adaptations.length === 1 ? '' : 's'})` : ''}\n`);
    for (const a of adaptations) io.stdout(`    ~ ${a}\n`);
    for (const s of skipped) io.stdout(`    skipped: ${s}\n`);
    const gaps = [...missing.commands.map((c) => `command ${c}`), ...missing.pythonModules.map((m) => `python module ${m}`)];
    if (gaps.length > 0) io.stdout(`    missing in this sandbox: ${gaps.join(', ')}\n`);
    if (missing.aliased.length > 0) io.stdout(`    provided as aliases: ${missing.aliased.join(', ')}\n`);
    for (const c of caps) io.stdout(`    cap: ${c}\n`);
  }
  for (const { dir, reasons } of result.rejected) {
    io.stdout(`✗ ${shown(dir)} rejected\n`);
    for (const r of reasons) io.stdout(`    - ${r.replace(/\n/g, '\n      ')}\n`);
  }
}

const VERDICT_MARK: Record<ImportedVerdict, string> = { ok: '✓', 'likely-broken': '✗', 'passes-without-work': '✗' };

function printValidation(io: CliIo, results: ImportedValidation[]): void {
  for (const v of results) {
    const word = v.verdict === 'ok' ? 'ok' : v.verdict === 'likely-broken' ? 'likely broken' : 'passes without work';
    io.stdout(`${VERDICT_MARK[v.verdict]} ${v.taskId}: ${word}; oracle ${v.oracle.result}, do-nothing ${v.doNothing.result}\n`);
    for (const r of v.reasons) io.stdout(`    - ${r}\n`);
  }
  const count = (verdict: ImportedVerdict) => results.filter((r) => r.verdict === verdict).length;
  io.stdout(`validated: ${count('ok')} ok, ${count('likely-broken')} likely broken, ${count('passes-without-work')} pass without work\n`);
}

/**
 * Validates imported (`harbor`) tasks and prints, per task, whether the oracle passes and doing
 * nothing fails, and why not. For `gauntlet import --validate`, and for `gauntlet validate` on a
 * set of imported tasks. Returns the results; any task not `ok` should make the exit status 1.
 */
export async function validateImported(io: CliIo, tasks: Task[], options: { sandbox?: 'auto' | 'bwrap'; concurrency?: number; print: boolean }): Promise<ImportedValidation[]> {
  if (options.print) io.stdout(`validating ${tasks.length} task(s): oracle and do-nothing through the agent loop\n`);
  const results = await validateImportedTasks({
    tasks,
    sandbox: options.sandbox ?? 'bwrap',
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(io.interactive && options.print ? { onTask: (v: ImportedValidation) => io.stderr(`  ${v.taskId}: ${v.verdict}\n`) } : {}),
  });
  if (options.print) printValidation(io, results);
  return results;
}

async function runImport(io: CliIo, path: string, flags: ImportFlags): Promise<void> {
  const result = importTaskDirectory(path, {
    ...(flags.passMin ? { passRule: passRuleFrom(flags.passMin, '--pass-min') } : {}),
    ...(flags.prebuiltImages ? { prebuiltImages: true } : {}),
  });
  if (result.imported.length > 0) writeTasksYaml(result.imported.map((i) => i.task), flags.out);
  if (!flags.json) printImported(io, result);
  const validation =
    flags.validate && result.imported.length > 0
      ? await validateImported(
          io,
          result.imported.map((i) => i.task),
          { concurrency: flags.concurrency, print: !flags.json, ...(flags.sandbox ? { sandbox: flags.sandbox } : {}) },
        )
      : undefined;
  if (flags.json) {
    printJson(io, {
      out: result.imported.length > 0 ? flags.out : null,
      imported: result.imported.map(({ task, dir, adaptations, skipped, missing, caps }) => ({ id: task.id, folder: dir, adaptations, skipped, missing, caps })),
      rejected: result.rejected,
      ...(validation ? { validation } : {}),
    });
  } else {
    const written = result.imported.length > 0 ? ` → ${flags.out}` : '';
    io.stdout(`${result.imported.length} imported, ${result.rejected.length} rejected${written}\n`);
  }
  if (result.imported.length === 0) {
    io.stderr(`gauntlet: nothing importable in ${path}\n`);
    process.exitCode = 1;
  } else if (validation?.some((v) => v.verdict !== 'ok')) process.exitCode = 1;
}

interface McpFlags {
  env: string;
  task: string;
  seed: number;
  tasksFile?: string[];
  sandbox?: SandboxBackend;
}

function findTask(flags: McpFlags, builtIn: () => Task[]): Task {
  const pool = flags.tasksFile ? flags.tasksFile.flatMap((file) => loadTaskFile(file)) : builtIn();
  const task = pool.find((t) => t.id === flags.task);
  if (!task) {
    const where = flags.tasksFile ? `in ${flags.tasksFile.join(', ')}` : `of ${flags.env}`;
    throw new InputError('--task', `no task ${where} has id "${flags.task}"`, `an id listed by \`gauntlet tasks --env ${flags.env}\``);
  }
  if (task.env !== flags.env) throw new InputError('--task', `task ${task.id} belongs to env "${task.env}", not "${flags.env}"`);
  return task;
}

/** `gauntlet import harbor|terminal-bench`, `gauntlet export-tasks` and `gauntlet mcp`. */
export function registerInteropCommands(program: Command, io: CliIo): void {
  const output = { writeOut: io.stdout, writeErr: io.stderr };
  registerExportTasksCommand(program, io);
  const importCommand = program.command('import').description('Import tasks written for other harnesses as Gauntlet tasks (offline adaptations are listed)');
  for (const [name, what] of [
    ['harbor', 'Harbor / Terminal-Bench 2 task folders (task.toml); Terminal-Bench 1 folders are accepted too'],
    ['terminal-bench', 'Terminal-Bench task folders: TB2 (task.toml) or TB1 (task.yaml)'],
  ] as const) {
    importCommand
      .command(`${name} <path>`)
      .description(`Import ${what}: a task folder or a folder of them, as terminal tasks`)
      .requiredOption('--out <file>', 'task file to write (YAML; run it with --tasks-file --env harbor)')
      .option('--pass-min <key=value>', 'pass rule: the reward key must reach value (repeatable; default every key at 1)', collect)
      .option('--prebuilt-images', 'also import tasks that ship only a prebuilt docker_image (no Dockerfile); they run only with --sandbox k8s, and --validate cannot play them here')
      .option('--validate', 'run each task with the oracle and a do-nothing policy and report, per task, whether it holds and why not')
      .option('--sandbox <backend>', 'sandbox for --validate: bwrap (default) or auto', oneOf('--sandbox', ['auto', 'bwrap'] as const))
      .option('--concurrency <n>', 'tasks validated at once', positiveInt('--concurrency', { max: 64 }), 2)
      .option('--json', 'one JSON document on stdout')
      .exitOverride()
      .configureOutput(output)
      .action((path: string, flags: ImportFlags) => runImport(io, path, flags));
  }

  program
    .command('mcp')
    .description("Serve one episode's tools over MCP (stdio): reset for --task with --seed, then answer tools/list and tools/call")
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--task <id>', 'task id (a built-in task, or one from --tasks-file)')
    .option('--tasks-file <file>', 'read tasks from this YAML/JSON file (repeatable)', collect)
    .option('--seed <n>', 'world seed', nonNegativeInt('--seed'), 1)
    .option('--sandbox <backend>', 'command sandbox: auto, virtual, bwrap, remote (GAUNTLET_SANDBOX_URL) or k8s (GAUNTLET_K8S_IMAGE)', oneOf('--sandbox', SANDBOX_BACKENDS))
    .action(async (flags: McpFlags) => {
      const definition = getEnvironment(flags.env);
      const task = findTask(flags, () => definition.tasks());
      const problems = taskProblems(definition, task);
      if (problems.length > 0) throw new InputError('--task', `task ${task.id} cannot run as written:\n  ${problems.join('\n  ')}`);
      // The same episode lifecycle as a run: the runner opens (instantiates and resets) it.
      const episode = await openEpisode({ definition, task, seed: flags.seed, ...(flags.sandbox ? { sandbox: flags.sandbox } : {}) });
      // stdout belongs to the protocol; say what is served on stderr.
      io.stderr(`gauntlet mcp: serving ${flags.env} task ${task.id} (seed ${flags.seed}) over stdio\n`);
      await serveEnvironmentMcpStdio({
        environment: episode.environment,
        task,
        seed: flags.seed,
        reset: episode.observation ? { observation: episode.observation } : {},
        close: episode.close,
      });
    });
}
