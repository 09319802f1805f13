import { relative } from 'node:path';
import type { Command } from 'commander';
import { InputError, type Task } from '../../core/index.ts';
import '../../envs/builtins.ts';
import { taskProblems } from '../../envs/task-check.ts';
import { openEpisode } from '../../runner/index.ts';
import { importTaskDirectory, serveEnvironmentMcpStdio, writeTasksYaml } from '../../envs/interop/index.ts';
import { getEnvironment } from '../../envs/registry.ts';
import { loadTaskFile } from '../../envs/tasks.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, oneOf } from '../options.ts';

interface ImportFlags {
  out: string;
  json?: boolean;
}

function runImport(io: CliIo, path: string, flags: ImportFlags): void {
  const result = importTaskDirectory(path);
  const shown = (dir: string) => relative(process.cwd(), dir) || '.';
  if (result.imported.length > 0) writeTasksYaml(result.imported.map((i) => i.task), flags.out);
  if (flags.json) {
    printJson(io, {
      out: result.imported.length > 0 ? flags.out : null,
      imported: result.imported.map(({ task, adaptations }) => ({ id: task.id, folder: (task.metadata?.source as { folder?: string } | undefined)?.folder, adaptations })),
      rejected: result.rejected,
    });
  } else {
    for (const { task, adaptations } of result.imported) {
      io.stdout(`✓ ${task.id}${adaptations.length ? ` (${adaptations.length} adaptation${adaptations.length === 1 ? '' : 's'})` : ''}\n`);
      for (const a of adaptations) io.stdout(`    ~ ${a}\n`);
    }
    for (const { dir, reasons } of result.rejected) {
      io.stdout(`✗ ${shown(dir)} rejected\n`);
      for (const r of reasons) io.stdout(`    - ${r.replace(/\n/g, '\n      ')}\n`);
    }
    const written = result.imported.length > 0 ? ` → ${flags.out}` : '';
    io.stdout(`${result.imported.length} imported, ${result.rejected.length} rejected${written}\n`);
  }
  if (result.imported.length === 0) {
    io.stderr(`gauntlet: nothing importable in ${path}\n`);
    process.exitCode = 1;
  }
}

interface McpFlags {
  env: string;
  task: string;
  seed: number;
  tasksFile?: string[];
  sandbox?: 'auto' | 'virtual' | 'bwrap';
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

export function registerInteropCommands(program: Command, io: CliIo): void {
  const output = { writeOut: io.stdout, writeErr: io.stderr };
  const importCommand = program.command('import').description('Import tasks written for other harnesses as Gauntlet tasks (offline adaptations are listed)');
  for (const [name, what] of [
    ['harbor', 'Harbor / Terminal-Bench 2 task folders (task.toml); Terminal-Bench 1 folders are accepted too'],
    ['terminal-bench', 'Terminal-Bench task folders: TB2 (task.toml) or TB1 (task.yaml)'],
  ] as const) {
    importCommand
      .command(`${name} <path>`)
      .description(`Import ${what}: a task folder or a folder of them, as terminal tasks`)
      .requiredOption('--out <file>', 'task file to write (YAML; run it with --tasks-file)')
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
    .option('--sandbox <backend>', 'command sandbox: auto, virtual or bwrap', oneOf('--sandbox', ['auto', 'virtual', 'bwrap'] as const))
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
