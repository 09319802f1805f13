import type { Command } from 'commander';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import { InputError, type Task } from '../../core/index.ts';
import { loadTaskFile } from '../../envs/index.ts';
import { validateEnvironment, type EnvironmentValidation } from '../../runner/index.ts';
import { printJson, safeText, type CliIo } from '../io.ts';
import { collect, collectNames, nonNegativeInt, oneOf } from '../options.ts';
import { tasksByEnvironment } from '../tasks.ts';

export function registerValidateCommand(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('Prove an environment\'s tasks trustworthy: golden passes; do-nothing, random, placeholder and destructive policies fail; same seed, same state')
    .option('--env <name>', 'environment(s), repeatable or comma-separated (default: those of the --tasks-file tasks)', collectNames('--env'))
    .option('--task <id>', 'only these task ids', collect)
    .option('--tasks-file <file>', 'validate the tasks in this YAML/JSON file (repeatable)', collect)
    .option('--seed <n>', 'world seed', nonNegativeInt('--seed'), 1)
    .option('--sandbox <backend>', 'command sandbox: auto, virtual, bwrap, remote (GAUNTLET_SANDBOX_URL) or k8s (GAUNTLET_K8S_IMAGE)', oneOf('--sandbox', SANDBOX_BACKENDS))
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: { env?: string[]; task?: string[]; tasksFile?: string[]; seed: number; sandbox?: SandboxBackend; json?: boolean }) => {
      // Every environment's tasks are chosen before any is checked, so a bad selection fails at once.
      const selected = tasksByEnvironment(flags).map(({ name, definition, tasks: pool }) => {
        const tasks = flags.task ? pool.filter((t) => flags.task!.includes(t.id)) : pool;
        if (flags.task && tasks.length === 0) throw new InputError('--task', `no task of ${name} has id ${flags.task.join(', ')}`, `ids listed by \`gauntlet tasks --env ${name}\``);
        return { name, definition, tasks };
      });
      const sourceOf = taskSources(flags.tasksFile ?? []);
      const reports: EnvironmentValidation[] = [];
      for (const { name, definition, tasks } of selected) {
        let done = 0;
        let failed = 0;
        // Problems are results, listed once on stdout at the end; stderr only counts (on a terminal).
        const report = await validateEnvironment({
          definition,
          tasks,
          seed: flags.seed,
          ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
          sourceOf,
          onTask: (t) => {
            done++;
            if (!t.valid) failed++;
            if (io.interactive) io.stderr(`\r${name}: ${done}/${tasks.length} checked${failed > 0 ? `, ${failed} invalid` : ''}`);
          },
        });
        if (io.interactive) io.stderr('\n');
        reports.push(report);
      }
      const invalid = reports.flatMap((r) => r.tasks.filter((t) => !t.valid).map((t) => ({ env: r.env, ...t })));
      const warnings = reports.flatMap((r) => r.tasks.flatMap((t) => t.warnings.map((w) => `${t.taskId}: ${w}`)));
      if (flags.json) printJson(io, { valid: invalid.length === 0, envs: reports });
      else {
        for (const r of reports) io.stdout(`${r.env}: ${r.tasks.filter((t) => t.valid).length}/${r.tasks.length} tasks valid\n`);
        for (const w of warnings) io.stdout(`  warning ${w}\n`);
        for (const t of invalid) io.stdout(`  INVALID ${t.taskId}\n${t.problems.map((p) => `    ${safeText(p)}\n`).join('')}`);
      }
      if (invalid.length > 0) process.exitCode = 1;
    });
}

/** Where each task of the --tasks-file files sits (file and position), so a problem can name its line. */
function taskSources(files: readonly string[]): (task: Task) => { path: string; index: number } | undefined {
  const sources = new Map<string, { path: string; index: number }>();
  // selectTasks has already refused duplicate ids, so an id names one place.
  for (const path of files) loadTaskFile(path).forEach((task, index) => sources.set(task.id, { path, index }));
  return (task) => sources.get(task.id);
}
