import type { Command } from 'commander';
import { environmentNames, getEnvironment } from '../../envs/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect } from '../options.ts';

export function registerCatalogCommands(program: Command, io: CliIo): void {
  program
    .command('envs')
    .description('List the built-in environments (all run offline)')
    .option('--json', 'JSON array on stdout')
    .action((flags: { json?: boolean }) => {
      const envs = environmentNames().map((name) => {
        const def = getEnvironment(name);
        return { name, description: def.description, tasks: def.tasks().length, tools: Object.keys(def.tools), sandbox: Boolean(def.sandbox) };
      });
      if (flags.json) return printJson(io, envs);
      for (const e of envs) io.stdout(`${e.name.padEnd(10)} ${String(e.tasks).padStart(4)} tasks  ${e.description}\n`);
    });

  program
    .command('tasks')
    .description('List an environment\'s tasks')
    .requiredOption('--env <name>', 'environment(s), repeatable or comma-separated', collect)
    .option('--json', 'JSON array on stdout')
    .action((flags: { env: string[]; json?: boolean }) => {
      const tasks = flags.env.flatMap((name) => getEnvironment(name).tasks());
      const rows = tasks.map((t) => ({
        id: t.id,
        env: t.env,
        domain: t.tags.domain,
        difficulty: t.tags.difficulty,
        labels: t.tags.labels,
        goldenSteps: t.golden.steps.length,
        ...(t.family ? { family: t.family.name } : {}),
        instruction: t.instruction,
      }));
      if (flags.json) return printJson(io, rows);
      for (const r of rows) io.stdout(`${r.id.padEnd(40)} ${r.domain.padEnd(10)} ${r.difficulty.padEnd(6)} ${String(r.goldenSteps).padStart(3)} steps  ${r.instruction.split('\n')[0]!.slice(0, 70)}\n`);
    });
}
