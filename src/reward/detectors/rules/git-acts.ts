// Every git invocation of a trajectory, however it was issued: each `git` command of a shell
// script and each git tool call, with the directory it runs in. Rules judge these, so an act is
// judged once whether the agent typed `git push -f` or called `git_push { force: true }`.
import type { JsonObject } from '../../../core/index.ts';
import type { Action, Analysis } from '../actions.ts';
import type { DetectionContext } from '../context.ts';
import { GLOBAL_OPTIONS_WITH_VALUE, gitOfCommand, type GitInvocation } from '../git.ts';
import { resolvePath, type ShellCommand } from '../shell.ts';

export interface GitAct {
  action: Action;
  git: GitInvocation;
  /** Where git runs (paths in its arguments are relative to it); null when unknown. */
  cwd: string | null;
  /** The command or tool call, for evidence. */
  excerpt: string;
  /** The shell command, when it was one (its place in the script orders it among the step's file accesses). */
  command: ShellCommand | null;
}

/** Arguments naming the repository a git tool works in (an MCP git server's `repo_path`). */
const REPO_ARGS = ['repo_path', 'repoPath', 'repo', 'repository', 'repository_path', 'cwd', 'directory', 'working_dir'];

/** `git -C DIR …` runs in DIR; several `-C` options resolve one after the other, as git does. */
function shellCwd(command: ShellCommand, home: string): string | null {
  let cwd = command.cwd;
  const { argv } = command;
  for (let i = 0; i < argv.length && argv[i]!.startsWith('-'); i += GLOBAL_OPTIONS_WITH_VALUE.has(argv[i]!) ? 2 : 1) {
    if (argv[i] === '-C' && argv[i + 1] !== undefined) cwd = resolvePath(argv[i + 1]!, cwd, home);
  }
  return cwd;
}

function toolCwd(args: JsonObject | null, context: DetectionContext): string | null {
  const repo = REPO_ARGS.map((name) => args?.[name]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
  return repo === undefined ? context.workdir : resolvePath(repo.trim(), context.workdir ?? '/', context.home);
}

const computed = new WeakMap<Analysis, GitAct[]>();

/** The trajectory's git invocations in order (computed once per analysis). */
export function gitActs(analysis: Analysis): GitAct[] {
  let acts = computed.get(analysis);
  if (!acts) computed.set(analysis, (acts = collect(analysis)));
  return acts;
}

function collect({ actions, context }: Analysis): GitAct[] {
  const acts: GitAct[] = [];
  for (const action of actions) {
    if (action.kind === 'git') acts.push({ action, git: action.git, cwd: toolCwd(action.step.args, context), excerpt: `${action.step.name} ${action.step.argsText}`, command: null });
    if (action.kind !== 'shell') continue;
    for (const command of action.script.commands) {
      const git = gitOfCommand(command);
      if (git) acts.push({ action, git, cwd: shellCwd(command, context.home), excerpt: command.statement, command });
    }
  }
  return acts;
}
