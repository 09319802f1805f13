import { relative } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import { EXPORTABLE_ENVS, exportHarborTasks } from '../../envs/interop/export-harbor.ts';
import { selectTasks } from '../../runner/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, oneOf } from '../options.ts';

interface ExportTasksFlags {
  env: string;
  format: 'harbor';
  task?: string[];
  tasksFile?: string[];
  seed: number;
  json?: boolean;
}

/** `gauntlet export-tasks --env NAME [--format harbor] DIR`: Gauntlet tasks as Harbor task folders. */
export function registerExportTasksCommand(program: Command, io: CliIo): void {
  program
    .command('export-tasks <dir>')
    .description(`Write an environment's tasks as Harbor task folders (instruction, environment, solution, tests grading with the task's verifier); exportable: ${EXPORTABLE_ENVS.join(', ')}`)
    .requiredOption('--env <name>', 'environment whose tasks to export')
    .option('--format <format>', 'output format: harbor (the only one, so the default)', oneOf('--format', ['harbor'] as const), 'harbor' as const)
    .option('--task <id>', 'only these task ids (repeatable)', collect)
    .option('--tasks-file <file>', 'export the tasks of this YAML/JSON file instead of the built-in ones (repeatable)', collect)
    .option('--seed <n>', 'world seed whose starting files are written (seeded background files differ per seed)', nonNegativeInt('--seed'), 1)
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, flags: ExportTasksFlags) => {
      getEnvironment(flags.env);
      const pool = selectTasks({ envs: [flags.env], ...(flags.tasksFile ? { taskFiles: flags.tasksFile } : {}), ...(flags.task ? { taskIds: flags.task } : {}) }, undefined, {
        checkTasks: false,
      }).filter((t) => t.env === flags.env);
      if (pool.length === 0) throw new InputError('--env', `no tasks of ${flags.env} to export`, flags.tasksFile ? `tasks with env ${flags.env} in ${flags.tasksFile.join(', ')}` : 'an environment with built-in tasks');
      const result = exportHarborTasks({ tasks: pool, dir, seed: flags.seed });
      if (flags.json) printJson(io, { dir, ...result });
      else {
        for (const e of result.exported) {
          io.stdout(`✓ ${e.id} → ${relative(process.cwd(), e.folder) || '.'}\n`);
          for (const n of e.notes) io.stdout(`    ~ ${n}\n`);
        }
        for (const r of result.refused) {
          io.stdout(`✗ ${r.id} not exported\n`);
          for (const reason of r.reasons) io.stdout(`    - ${reason}\n`);
        }
        io.stdout(`${result.exported.length} exported, ${result.refused.length} refused → ${dir}\n`);
      }
      if (result.exported.length === 0) process.exitCode = 1;
    });
}
