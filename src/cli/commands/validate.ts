import type { Command } from 'commander';
import { getEnvironment } from '../../envs/index.ts';
import { resolveTasks, validateEnvironment, type EnvironmentValidation } from '../../runner/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, oneOf } from '../options.ts';

export function registerValidateCommand(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('Prove an environment\'s tasks trustworthy: golden passes; do-nothing, random, placeholder and destructive policies fail; same seed, same state')
    .requiredOption('--env <name>', 'environment(s), repeatable or comma-separated', collect)
    .option('--task <id>', 'only these task ids', collect)
    .option('--seed <n>', 'world seed', nonNegativeInt('--seed'), 1)
    .option('--sandbox <backend>', 'command sandbox: auto, virtual or bwrap', oneOf('--sandbox', ['auto', 'virtual', 'bwrap'] as const))
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: { env: string[]; task?: string[]; seed: number; sandbox?: 'auto' | 'virtual' | 'bwrap'; json?: boolean }) => {
      const reports: EnvironmentValidation[] = [];
      for (const name of flags.env) {
        const definition = getEnvironment(name);
        const tasks = flags.task ? resolveTasks([name], flags.task.filter((id) => definition.tasks().some((t) => t.id === id))) : definition.tasks();
        let done = 0;
        const report = await validateEnvironment({
          definition,
          tasks,
          seed: flags.seed,
          ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
          onTask: (t) => {
            done++;
            if (!t.valid) io.stderr(`✗ ${t.taskId}\n${t.problems.map((p) => `    ${p}`).join('\n')}\n`);
            else if (io.interactive) io.stderr(`\r${name}: ${done}/${tasks.length} checked`);
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
        for (const t of invalid) io.stdout(`  INVALID ${t.taskId}: ${t.problems.join('; ')}\n`);
      }
      if (invalid.length > 0) process.exitCode = 1;
    });
}
