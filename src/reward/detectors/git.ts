// Git invocations in one form, however the agent made them: a `git` command in a shell script, or
// a git tool (`git_show { commit }`, `git_log { all: true }`, an MCP server's `git_diff { target }`).
// Both become the argument list git itself would receive, so every rule reads history one way.
import type { JsonObject, JsonValue } from '../../core/index.ts';
import type { ShellCommand } from './shell.ts';
import type { ToolStep } from './trajectory.ts';

export interface GitInvocation {
  /** The subcommand (`show`, `log`, `cat-file`). */
  sub: string;
  /** Its arguments as git would take them: options, revisions, then any paths. */
  rest: string[];
}

/** Subcommands a git tool's name may end in (`git_cat_file` → `cat-file`, `git_diff_staged` → `diff`). */
const SUBCOMMANDS = [
  'log', 'show', 'reflog', 'diff', 'cat-file', 'rev-list', 'rev-parse', 'shortlog', 'whatchanged', 'show-branch', 'branch', 'checkout', 'switch',
  'restore', 'reset', 'cherry-pick', 'merge', 'rebase', 'ls-tree', 'archive', 'fsck', 'blame', 'status', 'commit', 'add', 'tag', 'stash', 'grep',
  'push', 'pull', 'fetch', 'clean', 'rm', 'mv',
];
const GIT_TOOL = /(?:^|[_.-])git[_.-]?([a-z][a-z_-]*)$/i;
const GIT_RUNNER = /(?:^|[_.-])git$/i;
/** Arguments that name a revision (what `git show`, `git diff` or `git checkout` would take positionally). */
const REVISION_ARGS = [
  'commit', 'commit_id', 'commitId', 'sha', 'hash', 'rev', 'revision', 'ref', 'refs', 'object', 'target', 'treeish', 'tree_ish', 'branch', 'branch_name',
  'branchName', 'from', 'to', 'from_ref', 'to_ref', 'base', 'source', 'start_point', 'revisions', 'commits', 'refspec', 'refspecs',
];
/** Arguments that list paths in the work tree: git takes them after `--` (`git checkout REV -- tests/`). */
const PATH_ARGS = ['paths', 'path', 'files', 'file', 'file_path', 'filePath', 'file_paths', 'filePaths', 'pathspec', 'pathspecs'];
/** The remote a push, pull or fetch names; git takes it before the refspecs. */
const REMOTE_ARGS = ['remote', 'remote_name', 'remoteName'];
const TAKES_REMOTE = new Set(['push', 'pull', 'fetch']);
/** Free-form option strings or lists some git tools accept (`{ args: "--all --oneline" }`). */
const OPTION_ARGS = ['args', 'arguments', 'options', 'flags', 'extra_args', 'extraArgs'];
/** Boolean arguments that mean a git flag (history listings, forced or deleting pushes), by their kebab-case name. */
const BOOLEAN_FLAGS: Record<string, string> = {
  all: '--all',
  'all-refs': '--all',
  'all-branches': '--all',
  'include-all': '--all',
  reflog: '--reflog',
  'walk-reflogs': '--walk-reflogs',
  branches: '--branches',
  remotes: '--remotes',
  remote: '--remotes',
  'lost-found': '--lost-found',
  unreachable: '--unreachable',
  dangling: '--dangling',
  force: '--force',
  'force-push': '--force',
  'force-with-lease': '--force-with-lease',
  mirror: '--mirror',
  delete: '--delete',
  hard: '--hard',
};
/** String arguments that choose which refs to list (`git_branch { branch_type: "all" }`). */
const SCOPE_ARGS = /^(branch_?type|branchType|type|scope|refs|which)$/;
/** git's own options (before the subcommand) that take a value. */
export const GLOBAL_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace']);

/** The subcommand and its arguments of a git argument list (global options such as `-C dir` skipped). */
export function gitOfArgv(argv: readonly string[]): GitInvocation | null {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) i += GLOBAL_OPTIONS_WITH_VALUE.has(argv[i]!) ? 2 : 1;
  return i < argv.length ? { sub: argv[i]!, rest: argv.slice(i + 1) } : null;
}

export function gitOfCommand(command: ShellCommand): GitInvocation | null {
  return command.name === 'git' ? gitOfArgv(command.argv) : null;
}

const kebab = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
const strings = (value: JsonValue | undefined): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function subcommandOf(suffix: string): string | null {
  const name = kebab(suffix);
  let best: string | null = null;
  for (const sub of SUBCOMMANDS) if ((name === sub || name.startsWith(`${sub}-`)) && sub.length > (best?.length ?? 0)) best = sub;
  return best;
}

/** Options from a free-form string (`"--all --oneline"`) or list; split on white space, as a tool would. */
function optionWords(args: JsonObject): string[] {
  return OPTION_ARGS.flatMap((name) => strings(args[name]).flatMap((s) => s.split(/\s+/).filter(Boolean)));
}

/**
 * A git tool's arguments as git's own: flags, then the remote and revisions, then paths after `--`.
 * `git restore` takes its revision only as `--source`, so a tool's `source` becomes that.
 */
function argvOfTool(sub: string, args: JsonObject): string[] {
  const flags: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    // Own entries only: an argument named `constructor` is no flag.
    const key = kebab(name);
    const flag = Object.hasOwn(BOOLEAN_FLAGS, key) ? BOOLEAN_FLAGS[key] : undefined;
    if (flag && value === true) flags.push(flag);
    // `git_reset { mode: "hard" }`
    if (/^(mode|reset_?mode|resetMode|reset_?type|resetType)$/.test(name) && value === 'hard') flags.push('--hard');
    if (SCOPE_ARGS.test(name) && typeof value === 'string') {
      if (/^all$/i.test(value)) flags.push('--all');
      else if (/^remotes?$/i.test(value)) flags.push('--remotes');
    }
  }
  const values = (names: readonly string[]) => names.flatMap((name) => strings(args[name]).map((s) => s.trim()).filter(Boolean));
  const options = optionWords(args);
  const remote = TAKES_REMOTE.has(sub) ? values(REMOTE_ARGS) : [];
  const revisions = values(REVISION_ARGS).map((rev) => (sub === 'restore' ? `--source=${rev}` : rev));
  const paths = values(PATH_ARGS);
  const separator = paths.length > 0 && !options.includes('--') ? ['--'] : [];
  return [...flags, ...options, ...remote, ...revisions, ...separator, ...paths];
}

/**
 * What a git tool asks of git, or null when the tool is not one. `git_show`, `git.log`,
 * `mcp__git__git_diff_staged` are read by their name; a generic `git` tool by its command string.
 */
export function gitOfTool(step: Pick<ToolStep, 'name' | 'args'>): GitInvocation | null {
  const args = step.args ?? {};
  const named = GIT_RUNNER.test(step.name) ? null : GIT_TOOL.exec(step.name);
  const sub = named ? subcommandOf(named[1]!) : null;
  if (sub !== null) return { sub, rest: argvOfTool(sub, args) };
  // `git` or `git_tool` taking the command line as a string.
  if (!GIT_RUNNER.test(step.name) && !named) return null;
  const words = [...strings(args.command), ...strings(args.subcommand), ...strings(args.cmd), ...optionWords(args)].flatMap((s) => s.split(/\s+/).filter(Boolean));
  return gitOfArgv(words[0] === 'git' ? words.slice(1) : words);
}
