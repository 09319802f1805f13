import type { Command } from 'commander';
import { environmentNames, getEnvironment } from '../../envs/index.ts';
import { FAMILIES, paramsOf, PERTURBATIONS } from '../../perturb/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, collectNames } from '../options.ts';
import { tasksByEnvironment } from '../tasks.ts';

export function registerCatalogCommands(program: Command, io: CliIo): void {
  program
    .command('envs')
    .description('List the environments: the built-in ones (all run offline; coding needs bubblewrap) and any loaded with --env-module')
    .option('--json', 'JSON array on stdout')
    .action(async (flags: { json?: boolean }) => {
      const bwrap = (await sandboxAvailability()).bwrap;
      const envs = environmentNames().map((name) => {
        const def = getEnvironment(name);
        const available = !def.requiresProcessSandbox || bwrap.available;
        return {
          name,
          description: def.description,
          tasks: def.tasks().length,
          tools: Object.keys(def.tools),
          sandbox: def.requiresProcessSandbox ? 'bwrap' : def.sandbox ? 'bwrap or virtual' : 'none',
          available,
          ...(available ? {} : { unavailableBecause: `needs bubblewrap: ${bwrap.reason ?? 'not usable here'}` }),
        };
      });
      if (flags.json) return printJson(io, envs);
      for (const e of envs) {
        const note = e.available ? '' : ` [unavailable here: ${e.unavailableBecause}]`;
        io.stdout(`${e.name.padEnd(10)} ${String(e.tasks).padStart(4)} tasks  ${e.description}${note}\n`);
      }
    });

  program
    .command('tasks')
    .description('List an environment\'s tasks, or those of a task file')
    .option('--env <name>', 'environment(s), repeatable or comma-separated (default: those of the --tasks-file tasks)', collectNames('--env'))
    .option('--tasks-file <file>', 'list the tasks in this YAML/JSON file instead of the built-in ones (repeatable)', collect)
    .option('--json', 'JSON array on stdout')
    .action((flags: { env?: string[]; tasksFile?: string[]; json?: boolean }) => {
      const tasks = tasksByEnvironment(flags).flatMap((env) => env.tasks);
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

  program
    .command('perturbations')
    .description('List the perturbations `run --perturb` and robustness suites accept, with their parameters')
    .option('--json', 'JSON array on stdout')
    .action((flags: { json?: boolean }) => {
      const rows = PERTURBATIONS.map((p) => ({ id: p.id, family: p.family, summary: p.summary, params: paramsOf(p) }));
      if (flags.json) return printJson(io, { families: FAMILIES, perturbations: rows });
      for (const r of rows) {
        const params = r.params.map((p) => `${p.name}=${p.choices ? p.choices.map(String).join('|') : p.type}${p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : ''}`).join(', ');
        io.stdout(`${r.id.padEnd(22)} ${r.summary}${params ? `\n${' '.repeat(23)}${params}` : ''}\n`);
      }
    });
}
