import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { AGENTS, agentInstallDir, agentSpec, defaultAgentCache, ensureAgentInstalled } from '../../training/agents/index.ts';
import { printJson, type CliIo } from '../io.ts';

interface AgentRow {
  name: string;
  package: string;
  version: string;
  wireApi: string;
  installed: boolean;
  dir: string;
}

function rows(cacheDir: string): AgentRow[] {
  return Object.values(AGENTS).map((spec) => {
    const dir = agentInstallDir(spec, cacheDir);
    return { name: spec.name, package: spec.packageName, version: spec.version, wireApi: spec.wireApi, installed: existsSync(dir), dir };
  });
}

/** `gauntlet agents list | install NAME`: the external agents `run --agent` can use, and their install cache. */
export function registerAgentsCommand(program: Command, io: CliIo): void {
  const agents = program.command('agents').description('External agent programs (npm, pinned versions) that `gauntlet run --agent NAME` runs in a sandbox');
  agents
    .command('list')
    .description('Each agent, its package and version, its wire API, and whether it is in the cache')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const list = rows(defaultAgentCache(io.env));
      if (flags.json) return printJson(io, list);
      for (const row of list) io.stdout(`${row.name.padEnd(10)} ${`${row.package}@${row.version}`.padEnd(40)} ${row.wireApi.padEnd(10)} ${row.installed ? `installed in ${row.dir}` : 'not installed'}\n`);
    });
  agents
    .command('install <name>')
    .description('Install an agent into the cache ($GAUNTLET_CACHE/agents, else ~/.cache/gauntlet/agents); `run --agent` also does this on first use')
    .action(async (name: string) => {
      const spec = agentSpec(name);
      const cacheDir = defaultAgentCache(io.env);
      io.stderr(`installing ${spec.packageName}@${spec.version} into ${agentInstallDir(spec, cacheDir)}\n`);
      const result = await ensureAgentInstalled(spec, { cacheDir });
      io.stdout(result.installed ? `installed ${spec.name} in ${((result.installMs ?? 0) / 1000).toFixed(1)} s: ${result.dir}\n` : `${spec.name} is already installed: ${result.dir}\n`);
    });
}
