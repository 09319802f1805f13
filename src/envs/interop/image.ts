// Making the sandbox look like a task's base image where it can, and saying where it cannot: the
// aliases base images have (`python` for python3), and, at import, which commands and Python
// modules a task's scripts use that this machine's sandbox does not have.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { posix } from 'node:path';
import { baseName, pipelinesOf, splitLogicalLines, unquote } from './shell.ts';

/** Names Python base images (and Debian's python-is-python3) give to python3 and pip3. */
export const DEFAULT_ALIASES: Record<string, string> = { python: 'python3', pip: 'pip3' };

/** Per-command scratch folder for alias links; /tmp is private to the sandbox. */
const ALIAS_DIR = '/tmp/.gauntlet-image-bin';

/**
 * `command` preceded (on the same line, so line numbers in errors stay right) by links for each
 * alias whose name is missing and whose target exists, with their folder first on PATH.
 */
export function withAliases(command: string, aliases: Record<string, string>): string {
  const names = Object.keys(aliases).sort();
  if (names.length === 0) return command;
  const links = names
    .map((name) => {
      const target = aliases[name]!;
      return `if ! command -v ${name} >/dev/null 2>&1 && t=$(command -v ${target} 2>/dev/null); then mkdir -p ${ALIAS_DIR} && ln -sf "$t" ${ALIAS_DIR}/${name}; fi`;
    })
    .join('; ');
  return `${links}; export PATH="${ALIAS_DIR}:$PATH"; unset t; ${command}`;
}

/** The sandbox's PATH: both backends see the host's /usr read-only. */
const SANDBOX_PATH = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'];

export interface SandboxProbe {
  hasCommand(name: string): boolean;
  /** The names among `modules` (top-level Python modules) that python3 cannot import; all of them without python3. */
  missingPythonModules(modules: string[]): string[];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const PROBE = `
import importlib.util, json, sys
names = json.load(sys.stdin)
print(json.dumps([n for n in names if n not in sys.stdlib_module_names and importlib.util.find_spec(n) is None]))
`;

/** What this machine's sandbox has: executables on its PATH, modules host python3 finds. */
export function hostProbe(): SandboxProbe {
  return {
    hasCommand: (name) => SANDBOX_PATH.some((dir) => executable(posix.join(dir, name))),
    missingPythonModules: (modules) => {
      if (modules.length === 0) return [];
      const result = spawnSync('python3', ['-I', '-c', PROBE], { input: JSON.stringify(modules), encoding: 'utf8', timeout: 20_000 });
      if (result.status !== 0) return modules;
      return JSON.parse(result.stdout) as string[];
    },
  };
}

const SHELL_WORDS = new Set([
  '.', ':', '[', '[[', ']]', '{', '}', '(', ')', '!', 'alias', 'break', 'case', 'cd', 'command', 'continue', 'declare', 'do', 'done', 'echo', 'elif', 'else',
  'esac', 'eval', 'exec', 'exit', 'export', 'false', 'fi', 'for', 'function', 'getopts', 'hash', 'if', 'in', 'kill', 'let', 'local', 'mapfile', 'printf',
  'pushd', 'popd', 'pwd', 'read', 'readarray', 'readonly', 'return', 'select', 'set', 'shift', 'shopt', 'source', 'test', 'then', 'time', 'times', 'trap',
  'true', 'type', 'typeset', 'ulimit', 'umask', 'unalias', 'unset', 'until', 'wait', 'while',
]);

/** Whether `text` ends inside a quoted string (so the statement goes on on the next line). */
function quoteOpen(text: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === null) {
      if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
        const end = text.indexOf('\n', i);
        if (end < 0) return false;
        i = end;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '\\') i += 1;
    } else if (c === quote) quote = null;
    else if (c === '\\' && quote === '"') i += 1;
  }
  return quote !== null;
}

/** Logical lines, with a quoted string that spans lines kept in one statement. */
function statements(script: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of splitLogicalLines(script)) {
    pending = pending ? `${pending}\n${line.text}` : line.text;
    if (!quoteOpen(pending)) {
      out.push(pending);
      pending = '';
    }
  }
  if (pending) out.push(pending);
  return out;
}

/** Commands a shell script runs by name (not by path, not builtins, not its own functions). */
export function commandsUsed(script: string): string[] {
  const functions = new Set([...script.matchAll(/^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)/gm)].map((m) => m[1]!));
  const found = new Set<string>();
  for (const text of statements(script)) {
    for (const pipeline of pipelinesOf(text)) {
      for (const command of pipeline.commands) {
        const word = command.words[0] ? unquote(command.words[0].raw) : '';
        if (!/^[A-Za-z0-9_][\w.+-]*$/.test(word) || SHELL_WORDS.has(word) || functions.has(word)) continue;
        found.add(baseName(word));
      }
    }
  }
  return [...found].sort();
}

/** Top-level modules a Python source imports. */
export function pythonImports(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(/^\s*(?:import\s+([\w.]+(?:\s*,\s*[\w.]+)*)|from\s+([\w.]+)\s+import\b)/gm)) {
    const names = match[1] ? match[1].split(',') : [match[2]!];
    for (const name of names) {
      const top = name.trim().split('.')[0]!;
      if (top && !top.startsWith('_')) found.add(top);
    }
  }
  return [...found].sort();
}

/** Python a shell script carries: `python -c '…'` snippets and here-documents fed to python. */
export function embeddedPython(script: string): string[] {
  const snippets = [...script.matchAll(/\bpython[0-9.]*\s+-c\s+(?:'([^']*)'|"((?:\\.|[^"\\])*)")/g)].map((m) => (m[1] ?? m[2] ?? '').replace(/;\s*/g, '\n'));
  const heredocs = [...script.matchAll(/\bpython[0-9.]*\s+-\s*<<-?\s*(['"]?)(\w+)\1[^\n]*\n([\s\S]*?)\n\2\s*$/gm)].map((m) => m[3]!);
  return [...snippets, ...heredocs];
}

export interface ImageGaps {
  commands: string[];
  pythonModules: string[];
  /** Aliases the sandbox will provide (`python → python3`). */
  aliased: string[];
}

/**
 * What the task's scripts use that the sandbox lacks. `provided` are commands the task brings
 * itself (files it places on PATH); `localModules` Python modules it ships; pytest is never a gap
 * (Gauntlet's runner stands in for it).
 */
export function imageGaps(
  used: { scripts: string[]; pythonSources: string[] },
  options: { probe: SandboxProbe; aliases: Record<string, string>; provided: Set<string>; localModules: Set<string> },
): ImageGaps {
  const { probe, aliases, provided, localModules } = options;
  const commands: string[] = [];
  const aliased: string[] = [];
  for (const name of [...new Set(used.scripts.flatMap(commandsUsed))].sort()) {
    if (provided.has(name) || probe.hasCommand(name)) continue;
    const target = aliases[name];
    if (target !== undefined && probe.hasCommand(target)) aliased.push(`${name} → ${target}`);
    else commands.push(name);
  }
  const sources = [...used.pythonSources, ...used.scripts.flatMap(embeddedPython)];
  const modules = [...new Set(sources.flatMap(pythonImports))].filter((m) => !localModules.has(m) && m !== 'pytest').sort();
  return { commands, pythonModules: probe.missingPythonModules(modules), aliased };
}
