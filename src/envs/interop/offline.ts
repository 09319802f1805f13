// Which shell commands need the network (package installs, downloads) or Docker, so scripts can be
// adapted to run offline in a sandbox, or rejected when they cannot.
import { baseName, unquote, type Command } from './shell.ts';

const LOCAL_URL = /^(?:https?:\/\/)?(?:localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)(?:[:/]|$)/;

function sub(words: string[], index: number): string {
  return words[index] ?? '';
}

/** Why this command needs the network, or null when it does not. `words` are unquoted. */
export function networkReason(words: string[]): string | null {
  const name = baseName(words[0] ?? '');
  const rest = words.slice(1);
  switch (name) {
    case 'apt-get':
    case 'apt':
    case 'apk':
    case 'yum':
    case 'dnf':
    case 'zypper':
    case 'pacman':
    case 'brew':
      return 'installs system packages';
    case 'curl':
    case 'wget': {
      const urls = rest.filter((w) => !w.startsWith('-') && /[./:]/.test(w) && !w.startsWith('/'));
      return urls.length > 0 && urls.every((u) => LOCAL_URL.test(u)) ? null : 'downloads from the network';
    }
    case 'pip':
    case 'pip3':
      return ['install', 'download', 'wheel'].includes(sub(words, 1)) ? 'installs Python packages' : null;
    case 'uv':
      return ['pip', 'add', 'sync', 'venv', 'tool', 'python', 'init', 'lock', 'self'].includes(sub(words, 1)) ? 'installs packages with uv' : null;
    case 'uvx':
    case 'pipx':
    case 'npx':
      return 'runs a package fetched from the network';
    case 'npm':
    case 'yarn':
    case 'pnpm':
      return ['install', 'i', 'ci', 'add'].includes(sub(words, 1)) ? 'installs npm packages' : null;
    case 'git':
      return ['clone', 'fetch', 'pull', 'submodule'].includes(sub(words, 1)) ? 'fetches a git repository' : null;
    case 'conda':
    case 'mamba':
    case 'micromamba':
      return ['install', 'create', 'update'].includes(sub(words, 1)) ? 'installs conda packages' : null;
    case 'gem':
    case 'cargo':
      return sub(words, 1) === 'install' ? 'installs packages' : null;
    case 'go':
      return ['install', 'get'].includes(sub(words, 1)) ? 'installs Go modules' : null;
    case 'rustup':
      return 'installs a toolchain';
    case 'source':
    case '.':
      // Installers (uv, rustup) leave an env file to source; without the install it is missing.
      return /(\.local\/bin\/env|\.cargo\/env)$/.test(sub(words, 1)) ? "sources an installer's environment" : null;
  }
  if (/^python(\d+(\.\d+)?)?$/.test(name) && sub(words, 1) === '-m' && sub(words, 2) === 'pip' && ['install', 'download'].includes(sub(words, 3))) {
    return 'installs Python packages';
  }
  return null;
}

/** Why this command needs Docker or a service manager (cannot run in a sandbox), or null. */
export function dockerReason(words: string[]): string | null {
  const name = baseName(words[0] ?? '');
  if (['docker', 'docker-compose', 'podman'].includes(name)) return `runs ${name}`;
  if (['systemctl', 'service'].includes(name)) return `starts a system service (${name})`;
  return null;
}

export function commandWords(command: Command): string[] {
  return command.words.map((w) => unquote(w.raw));
}

/** Options of pytest that take a separate value, so the value is not mistaken for a test path. */
const PYTEST_VALUE_OPTIONS = new Set([
  '-k', '-m', '-p', '-c', '-o', '-W', '--ctrf', '--junitxml', '--junit-xml', '--rootdir', '--tb', '--maxfail', '--json-report-file',
  '--cov', '--cov-report', '--timeout', '--basetemp', '--log-file', '--confcutdir', '--deselect', '--ignore', '--durations',
]);
const UV_VALUE_OPTIONS = new Set(['--with', '-w', '--from', '-p', '--python', '--project', '--directory', '--with-requirements', '--index-url', '--extra-index-url']);

export interface PytestCall {
  /** Index in `command.words` of the first pytest argument. */
  argsFrom: number;
  /** How pytest was launched (uvx, uv run, python -m, direct). */
  launcher: string;
}

/** Where a command launches pytest (directly, `python -m pytest`, `uvx … pytest`, `uv run … pytest`). */
export function findPytest(words: string[]): PytestCall | null {
  const name = baseName(words[0] ?? '');
  const skipOptions = (from: number): number => {
    let i = from;
    while (i < words.length && words[i]!.startsWith('-')) i += UV_VALUE_OPTIONS.has(words[i]!) ? 2 : 1;
    return i;
  };
  const pytestAt = (i: number, launcher: string): PytestCall | null => {
    if (baseName(words[i] ?? '') === 'pytest') return { argsFrom: i + 1, launcher };
    if (/^python(\d+(\.\d+)?)?$/.test(baseName(words[i] ?? '')) && words[i + 1] === '-m' && words[i + 2] === 'pytest') return { argsFrom: i + 3, launcher };
    return null;
  };
  if (name === 'uvx') return pytestAt(skipOptions(1), 'uvx');
  if (name === 'uv' && words[1] === 'run') return pytestAt(skipOptions(2), 'uv run');
  return pytestAt(0, name === 'pytest' ? 'pytest' : 'python -m pytest');
}

/** Splits pytest's arguments into test targets and everything else (options, dropped). */
export function pytestTargets(args: string[]): { targets: number[]; options: string[] } {
  const targets: number[] = [];
  const options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^\d*[<>]/.test(arg)) break; // a redirection: the rest is not pytest's
    if (arg.startsWith('-')) {
      options.push(arg);
      if (PYTEST_VALUE_OPTIONS.has(arg) && i + 1 < args.length) options.push(args[++i]!);
    } else targets.push(i);
  }
  return { targets, options };
}
