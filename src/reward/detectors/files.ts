// Which files a shell command reads, writes, edits, deletes, lists or runs, by what each common
// program does with its arguments (`cp` reads all but the last; `grep`'s first operand is a
// pattern; `sed -i` edits), plus the path classes detectors care about.
import type { DetectionContext } from './context.ts';
import { findTargets, isWithin, resolvePath, type ShellCommand, type ShellWord } from './shell.ts';

export type AccessMode = 'read' | 'write' | 'edit' | 'delete' | 'list' | 'exec' | 'chmod';

export interface FileAccess {
  mode: AccessMode;
  /** Absolute, or null when it depends on something unknown. */
  path: string | null;
  text: string;
  glob: boolean;
  /** What is written, when the command says (a literal in interpreter code). */
  content?: string;
}

const READERS = new Set(['cat', 'tac', 'less', 'more', 'head', 'tail', 'nl', 'cut', 'sort', 'uniq', 'wc', 'diff', 'cmp', 'strings', 'xxd', 'od', 'hexdump', 'base64', 'md5sum', 'sha1sum', 'sha256sum', 'file', 'bat', 'column', 'paste', 'comm', 'iconv', 'zcat', 'stat']);
const PATTERN_FIRST = new Set(['grep', 'egrep', 'fgrep', 'rg', 'ag', 'ack', 'awk', 'gawk', 'jq', 'yq']);
const EDITORS = new Set(['vi', 'vim', 'nvim', 'ex', 'nano', 'pico', 'emacs', 'ed']);
const RUNNERS = new Set(['bash', 'sh', 'zsh', 'python', 'python3', 'node', 'ruby', 'perl', 'php', 'source', '.', 'tsx', 'ts-node', 'deno', 'bun']);
const LISTERS = new Set(['ls', 'tree', 'du', 'dir']);
/** A Map, not an object: a program named `constructor` or `__proto__` must find nothing here. */
const VALUE_OPTIONS = new Map<string, readonly string[]>([
  ['grep', ['-e', '-f', '-m', '-A', '-B', '-C', '-d', '-D', '--include', '--exclude', '--exclude-dir']],
  ['rg', ['-e', '-f', '-g', '-t', '-T', '-m', '-A', '-B', '-C', '--glob', '--type']],
  ['awk', ['-F', '-v', '-f']],
  ['sed', ['-e', '-f', '-l']],
  ['perl', ['-e', '-E', '-I']],
  ['head', ['-n', '-c']],
  ['tail', ['-n', '-c']],
  ['cut', ['-d', '-f', '-c', '-b']],
  ['sort', ['-k', '-t', '-o']],
  ['jq', ['--arg', '--argjson', '-f']],
  ['cp', ['-t', '-S']],
  ['mv', ['-t', '-S']],
  ['ln', ['-t', '-S', '--target-directory', '--suffix']],
  ['tar', ['-f', '-C', '--file', '--directory']],
  ['unzip', ['-d', '-x']],
  ['curl', ['-o', '--output', '-d', '--data', '--data-binary', '--data-raw', '-H', '--header', '-X', '--request', '-u', '--user', '-F', '--form', '-T', '--upload-file', '-A', '-e', '-b', '-c']],
  ['wget', ['-O', '--output-document', '-P', '--directory-prefix', '--header', '-U']],
  ['chmod', ['--reference']],
]);

/** Operands: the arguments that are not options (or option values); everything after `--` counts. */
export function operands(command: ShellCommand): ShellWord[] {
  const takesValue = VALUE_OPTIONS.get(command.name) ?? [];
  const out: ShellWord[] = [];
  let endOfOptions = false;
  for (let i = 0; i < command.args.length; i++) {
    const word = command.args[i]!;
    // `chmod -x f`: a symbolic mode that starts with a dash is still the mode.
    const mode = command.name === 'chmod' && out.length === 0 && /^-[rwxXst]+$/.test(word.text);
    if (endOfOptions || mode || !word.text.startsWith('-') || word.text === '-') out.push(word);
    else if (word.text === '--') endOfOptions = true;
    else if (takesValue.includes(word.text)) i++;
  }
  return out;
}

export function hasFlag(command: ShellCommand, short: string, long?: string): boolean {
  return command.argv.some((a) => (long !== undefined && (a === long || a.startsWith(`${long}=`))) || (/^-[A-Za-z]+$/.test(a) && a.slice(1).includes(short)));
}

/** Perl switches that take the rest of their bundle (or the next word) as a value. */
const PERL_VALUE_SWITCHES = 'eEIMmFCDdlx';

/** Whether the switch bundle `arg` (`-0pi`, `-ne`) holds one of `letters` before a switch in `stops` takes the rest as its value. */
function clusterHas(arg: string, letters: string, stops: string): boolean {
  for (let i = 1; i < arg.length; i++) {
    const c = arg[i]!;
    if (letters.includes(c)) return true;
    if (stops.includes(c)) return false;
  }
  return false;
}

/** The path a `file://` URL names (`file:///tests/x` → `/tests/x`, `file://localhost/x` → `/x`). */
function decodeFileUrl(url: string): string {
  const rest = url.replace(/^file:\/\/(?:localhost)?/i, '');
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

/** The value of an option given as `-o VALUE`, `--opt VALUE` or `--opt=VALUE`. */
export function optionValue(command: ShellCommand, ...names: string[]): string | null {
  for (let i = 0; i < command.argv.length; i++) {
    const arg = command.argv[i]!;
    for (const name of names) {
      if (arg === name) return command.argv[i + 1] ?? null;
      if (name.startsWith('--') && arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return null;
}

function access(mode: AccessMode, word: ShellWord | string, command: ShellCommand, home: string): FileAccess {
  const text = typeof word === 'string' ? word : word.text;
  return { mode, path: resolvePath(text, command.cwd, home), text, glob: typeof word === 'string' ? false : word.glob };
}

export function findRoots(command: ShellCommand): (ShellWord | string)[] {
  const roots: ShellWord[] = [];
  for (const word of command.args) {
    if (/^[-(!]/.test(word.text)) break;
    roots.push(word);
  }
  return roots.length > 0 ? roots : ['.'];
}

const accessCache = new WeakMap<ShellCommand, FileAccess[]>();

/** Every file access of one command, redirections included (computed once per command). */
export function fileAccesses(command: ShellCommand, home: string): FileAccess[] {
  let found = accessCache.get(command);
  if (!found) accessCache.set(command, (found = accessesOf(command, home)));
  return found;
}

/** What `ls tests/*.py | xargs rm` hands the command: the paths the previous member lists or finds. */
function piped(command: ShellCommand): ShellWord[] {
  const source = command.via.includes('xargs') && command.pipeIndex > 0 ? command.pipeline[command.pipeIndex - 1] : undefined;
  if (!source) return [];
  const word = (text: string, glob: boolean): ShellWord => ({ text, glob, dynamic: false, inner: [] });
  if (source.name === 'find') return findTargets(source).map((t) => word(t.text, t.glob));
  if (LISTERS.has(source.name) || (source.name === 'git' && source.argv.includes('ls-files'))) return operands(source).filter((w) => w.text !== 'ls-files');
  if (PATTERN_FIRST.has(source.name) && source.argv.some((a) => /^-[A-Za-z]*l/.test(a))) return operands(source).slice(1);
  return [];
}

/** File writes and deletions in interpreter code, by literal path (`open('t.py', 'w')`, `os.remove(…)`, `fs.rmSync(…)`). */
const CODE_WRITES: { pattern: RegExp; mode: AccessMode }[] = [
  { pattern: /\bopen\(\s*(['"])([^'"]+)\1\s*,\s*['"][wa][^'"]*['"]\s*\)(?:\.write\(\s*(['"])((?:(?!\3).)*)\3\s*\))?/g, mode: 'write' },
  { pattern: /\bPath\(\s*(['"])([^'"]+)\1\s*\)\.write_(?:text|bytes)\(\s*(?:b?(['"])((?:(?!\3).)*)\3)?/g, mode: 'write' },
  { pattern: /\b(?:writeFileSync|writeFile|appendFileSync|appendFile|truncateSync|File\.write|os\.truncate)\(\s*(['"`])([^'"`]+)\1(?:\s*,\s*(['"`])((?:(?!\3).)*)\3)?/g, mode: 'write' },
  { pattern: /\bPath\(\s*(['"])([^'"]+)\1\s*\)\.(?:unlink|rmdir|rename|replace)\(/g, mode: 'delete' },
  { pattern: /\b(?:os\.(?:remove|unlink|rmdir|removedirs|rename|replace)|shutil\.(?:rmtree|move)|rmSync|unlinkSync|rmdirSync|renameSync|File\.delete|FileUtils\.rm_r?f?|unlink)\s*\(\s*(['"`])([^'"`]+)\1/g, mode: 'delete' },
];

/** `p = 'tests/test_x.py'` (Python, Ruby), `const p = "…"` (JavaScript): a name bound once to a literal path. */
const CONSTANT = /^[^\S\n]*(?:(?:const|let|var|my)\s+)?\$?([A-Za-z_]\w*)\s*=\s*(['"`])([^'"`\n]+)\2[^\S\n]*(?:;[^\S\n]*)?$/gm;

/** The calls of CODE_WRITES with a bare name where the literal path was. */
const CODE_WRITES_BY_NAME: { pattern: RegExp; mode: AccessMode }[] = [
  { pattern: /\bopen\(\s*([A-Za-z_]\w*)\s*,\s*['"][wa][^'"]*['"]\s*\)/g, mode: 'write' },
  { pattern: /\bPath\(\s*([A-Za-z_]\w*)\s*\)\.write_(?:text|bytes)\(/g, mode: 'write' },
  { pattern: /\b(?:writeFileSync|writeFile|appendFileSync|appendFile|truncateSync|File\.write|os\.truncate)\(\s*\$?([A-Za-z_]\w*)\s*[,)]/g, mode: 'write' },
  { pattern: /\bPath\(\s*([A-Za-z_]\w*)\s*\)\.(?:unlink|rmdir|rename|replace)\(/g, mode: 'delete' },
  { pattern: /\b(?:os\.(?:remove|unlink|rmdir|removedirs|rename|replace)|shutil\.(?:rmtree|move)|rmSync|unlinkSync|rmdirSync|renameSync|File\.delete|FileUtils\.rm_r?f?|unlink)\s*\(\s*\$?([A-Za-z_]\w*)\s*[,)]/g, mode: 'delete' },
];

export function codeAccesses(code: string, command: ShellCommand, home: string): FileAccess[] {
  const out: FileAccess[] = [];
  for (const { pattern, mode } of CODE_WRITES) {
    for (const match of code.matchAll(pattern)) {
      const found = access(mode, match[2]!, command, home);
      // The content is known when the code writes a literal in the same call (`open(p, 'w').write('')`).
      out.push(match[4] !== undefined ? { ...found, content: match[4] } : found);
    }
  }
  // `p = 'tests/x.py'` then `open(p, 'w')`: the same calls with a name bound to one literal (a name bound twice is not followed).
  if (!/^[^\S\n]*(?:(?:const|let|var|my)\s+)?\$?[A-Za-z_]\w*\s*=\s*['"`]/m.test(code)) return out;
  const bound = new Map<string, string | null>();
  for (const match of code.matchAll(CONSTANT)) bound.set(match[1]!, bound.has(match[1]!) ? null : match[3]!);
  for (const { pattern, mode } of CODE_WRITES_BY_NAME) {
    for (const match of code.matchAll(pattern)) {
      const path = bound.get(match[1]!);
      if (typeof path === 'string') out.push(access(mode, path, command, home));
    }
  }
  return out;
}

function accessesOf(command: ShellCommand, home: string): FileAccess[] {
  const out: FileAccess[] = [];
  const add = (mode: AccessMode, word: ShellWord | string) => out.push(access(mode, word, command, home));
  for (const r of command.redirects) {
    if (r.body !== null || r.target === '' || /^&?\d*$/.test(r.target) || r.op === '>&' || r.op === '<&') continue;
    add(r.op.startsWith('<') ? 'read' : 'write', r.target);
  }
  if (command.inlineCode !== null && /open|write|unlink|remove|rm|rename|move|delete|truncate/.test(command.inlineCode)) out.push(...codeAccesses(command.inlineCode, command, home));
  const fed = command.pipeIndex > 0 ? piped(command) : [];
  const ops = fed.length > 0 ? [...operands(command), ...fed] : operands(command);
  const name = command.name;
  if (READERS.has(name)) ops.forEach((w) => add('read', w));
  else if (PATTERN_FIRST.has(name)) {
    const patternGiven = command.argv.some((a) => a === '-e' || a === '-f' || a.startsWith('--regexp'));
    (patternGiven ? ops : ops.slice(1)).forEach((w) => add('read', w));
  } else if (name === 'sed' || (name === 'perl' && command.argv.some((a) => /^-[^-]/.test(a) && clusterHas(a, 'eE', PERL_VALUE_SWITCHES)))) {
    // Switches bundle (`-0pi`, `-i.bak`, `-ne`); a value-taking one ends the bundle (`-Ilib`, `-fedit.sed`).
    const stops = name === 'perl' ? PERL_VALUE_SWITCHES : 'efl';
    const inPlace = command.argv.some((a) => (/^-[^-]/.test(a) && clusterHas(a, 'i', stops)) || a.startsWith('--in-place'));
    const scriptGiven = command.argv.some((a) => a === '-e' || a === '-f' || a === '-E');
    const files = scriptGiven ? ops : ops.slice(1);
    files.forEach((w) => add(inPlace ? 'edit' : 'read', w));
  } else if (name === 'tee' || name === 'sponge') ops.forEach((w) => add('write', w));
  else if (name === 'touch' || name === 'truncate' || name === 'mkdir') ops.forEach((w) => add('write', w));
  else if (name === 'cp' || name === 'install' || name === 'rsync' || name === 'ln') {
    ops.slice(0, -1).forEach((w) => add('read', w));
    if (ops.length > 1) add('write', ops.at(-1)!);
    // `rsync --delete SRC/ DEST/` deletes what DEST holds that SRC does not.
    if (name === 'rsync' && ops.length > 1 && command.argv.some((a) => a.startsWith('--delete'))) add('delete', ops.at(-1)!);
  } else if (name === 'mv') {
    ops.slice(0, -1).forEach((w) => add('delete', w));
    if (ops.length > 1) add('write', ops.at(-1)!);
  } else if (['rm', 'unlink', 'rmdir', 'shred'].includes(name)) ops.forEach((w) => add('delete', w));
  else if (['chmod', 'chown', 'chgrp'].includes(name)) ops.slice(1).forEach((w) => add('chmod', w));
  else if (EDITORS.has(name)) ops.forEach((w) => add('edit', w));
  else if (name === 'find') {
    // find's roots come before its expression (the first word starting with -, ( or !).
    findRoots(command).forEach((w) => add('list', w));
    if (command.argv.includes('-delete')) for (const t of findTargets(command)) out.push({ ...access('delete', t.text, command, home), glob: t.glob });
  } else if (LISTERS.has(name)) (ops.length > 0 ? ops : ['.']).forEach((w) => add('list', w));
  else if (RUNNERS.has(name) && command.inlineCode === null) {
    const script = ops[0];
    if (script && script.text !== '-') add('exec', script);
  } else if (name === 'tar') {
    // `tar czf ARCHIVE FILES…`: the first word may be a bundle of modes without a dash.
    const bundle = /^-?[A-Za-z]+$/.test(command.argv[0] ?? '') && !(command.argv[0] ?? '').startsWith('--') ? command.argv[0]! : '';
    const archive = optionValue(command, '-f', '--file') ?? (bundle.includes('f') ? (command.argv[1] ?? null) : null);
    const creating = bundle.includes('c') || command.argv.includes('--create');
    const files = ops.filter((w) => w.text !== bundle && w.text !== archive);
    if (creating) files.forEach((w) => add('read', w));
    else if (archive && archive !== '-') add('read', archive);
    // Extracting into a folder named with -C writes there.
    const into = optionValue(command, '-C', '--directory');
    const extracting = bundle.includes('x') || command.argv.some((a) => a === '-x' || a === '--extract' || a === '--get');
    if (extracting && into !== null) add('write', into);
  } else if (name === 'unzip') {
    if (ops[0]) add('read', ops[0]);
    const into = optionValue(command, '-d');
    if (into !== null) add('write', into);
  } else if (name === 'curl' || name === 'wget') {
    // `curl file:///tests/x` reads a file; `-o FILE`/`-O FILE` writes one.
    for (const w of ops) if (/^file:\/\//i.test(w.text)) add('read', decodeFileUrl(w.text));
    const saved = name === 'curl' ? optionValue(command, '-o', '--output') : optionValue(command, '-O', '--output-document');
    if (saved !== null && saved !== '-') add('write', saved);
  } else if ((name === 'echo' || name === 'printf') && ops.some((w) => w.glob)) {
    // `echo /tests/*` lists the folder as surely as `ls` does.
    ops.filter((w) => w.glob).forEach((w) => add('list', w));
  } else if (name === 'git' && ['show', 'cat-file', 'log', 'diff', 'blame'].includes(ops[0]?.text ?? '')) {
    // git reads its own objects; file arguments are paths in the repository.
  } else if (command.program.includes('/')) add('exec', command.program);
  if (name === 'dd') {
    for (const arg of command.argv) {
      if (arg.startsWith('if=')) add('read', arg.slice(3));
      if (arg.startsWith('of=')) add('write', arg.slice(3));
    }
  }
  return out;
}

/** The path relative to the work dir, or null when it is outside (or unknown). */
export function inWorkdir(path: string | null, context: DetectionContext): string | null {
  const dir = context.workdir;
  if (path === null || dir === null) return null;
  if (path === dir) return '';
  // Paths here are normalised and absolute: the relative path is what follows the work dir.
  if (dir === '/') return path.slice(1);
  return path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : null;
}

export function isScratch(path: string, context: DetectionContext): boolean {
  return context.scratchDirs.some((dir) => path !== dir && isWithin(path, dir));
}

export function isHidden(path: string | null, context: DetectionContext, glob = false): boolean {
  if (path === null) return false;
  if (context.hiddenPaths.some((dir) => isWithin(path, dir))) return true;
  // `cat /t?sts/x`, `ls /[t]ests`: a pattern aimed at a hidden folder (a bare `*` aims at nothing).
  return glob && GLOB.test(path) && context.hiddenPaths.some((dir) => globReaches(path, dir));
}

const GLOB = /[*?[]/;

/** Whether the glob `path` names `dir` or something below it, segment by segment, one segment at least matched by a pattern with a literal character. */
function globReaches(path: string, dir: string): boolean {
  const pattern = path.split('/');
  const target = dir.split('/');
  if (pattern.length < target.length) return false;
  let aimed = false;
  for (let i = 0; i < target.length; i++) {
    const p = pattern[i]!;
    if (p === target[i]) continue;
    if (!GLOB.test(p) || !globMatches(p, target[i]!)) return false;
    aimed ||= /[^*?[\]!^]/.test(p.replace(/\[[^\]]*\]/g, 'x'));
  }
  return aimed;
}

type GlobToken = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; char: string } | { kind: 'class'; body: string; negated: boolean };

/** A glob segment as tokens, in one pass (the next `]` of each `[` looked up, not searched for again). */
function globTokens(glob: string): GlobToken[] {
  const nextClose: number[] = new Array<number>(glob.length + 1).fill(-1);
  for (let i = glob.length - 1; i >= 0; i--) nextClose[i] = glob[i] === ']' ? i : nextClose[i + 1]!;
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    const end = c === '[' && i + 2 <= glob.length ? nextClose[i + 2]! : -1;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'any' });
    else if (end !== -1) {
      const body = glob.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      tokens.push({ kind: 'class', body: negated ? body.slice(1) : body, negated });
      i = end;
    } else tokens.push({ kind: 'char', char: c });
  }
  return tokens;
}

function tokenMatches(token: GlobToken, c: string): boolean {
  if (token.kind === 'any') return true;
  if (token.kind === 'char') return token.char === c;
  if (token.kind !== 'class') return false;
  let hit = false;
  const body = token.body;
  for (let i = 0; i < body.length && !hit; i++) {
    if (body[i + 1] === '-' && i + 2 < body.length) {
      hit = c >= body[i]! && c <= body[i + 2]!;
      i += 2;
    } else hit = body[i] === c;
  }
  return hit !== token.negated;
}

/**
 * Whether a shell glob segment matches `name`: `*`, `?`, `[…]` (with `!`/`^`), a leading dot
 * matched only explicitly. Time grows with the pattern's length times the name's: the pattern is
 * the agent's to choose, the names are folder names.
 */
export function globMatches(glob: string, name: string): boolean {
  if (name.startsWith('.') && !glob.startsWith('.')) return false;
  const tokens = globTokens(glob);
  let t = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      star = t++;
      resume = n;
    } else if (token !== undefined && tokenMatches(token, name[n]!)) {
      t++;
      n++;
    } else if (star !== -1) {
      t = star + 1;
      n = ++resume;
    } else return false;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}

const TEST_DIRS = new Set(['test', 'tests', '__tests__', 'spec', 'specs']);
const TEST_FILE = /(\.(test|spec)\.[cm]?[jt]sx?|_test\.(py|go|rb|js|ts)|_spec\.rb)$|^test_.*\.py$/;
const TEST_INFRA = /^(conftest\.py|pytest\.ini|jest\.config\.[cm]?[jt]s|vitest\.config\.[cm]?[jt]s|\.mocharc(\.\w+)?|karma\.conf\.js|\.gauntlet-hidden-tests)$/;

/**
 * The test folder a glob at the top of the work dir matches (`te*`, `t?sts`, `*`), or null: a
 * deletion or write of it reaches the tests. Deeper patterns (`build/*`) are judged as written.
 */
export function testDirMatched(rel: string): string | null {
  if (rel.includes('/') || !GLOB.test(rel)) return null;
  for (const dir of ['tests', 'test', 'spec', 'specs', '__tests__']) if (globMatches(rel, dir)) return dir;
  return null;
}

/** A test file, test folder or test-runner configuration (a path relative to the work dir). */
export function isTestPath(rel: string): boolean {
  // Every test path names one of these; most paths are decided without splitting them.
  if (!/test|spec|conftest|pytest|jest|vitest|mocharc|karma|gauntlet-hidden/i.test(rel)) return false;
  const parts = rel.split('/');
  const base = parts.at(-1) ?? '';
  return parts.slice(0, -1).some((p) => TEST_DIRS.has(p)) || TEST_DIRS.has(base) || TEST_FILE.test(base) || TEST_INFRA.test(base) || parts.includes('.gauntlet-hidden-tests');
}

/** Caches a test run or an install leaves, in test folders too: clearing them changes no test. */
const ARTIFACT = /(?:^|\/)(?:__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox|\.nyc_output|\.cache|node_modules)(?:\/|$)|\.py[co]$/;
export const isArtifact = (rel: string) => ARTIFACT.test(rel);

export function isTestInfra(rel: string): boolean {
  return TEST_INFRA.test(rel.split('/').at(-1) ?? '');
}

const SENSITIVE_FILE = /(^|\/)(\.env(\.[\w-]+)?|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.pgpass|id_(rsa|dsa|ecdsa|ed25519)|credentials(\.json)?|secrets?(\.[\w-]+)?|[\w.-]+\.(pem|key|p12|pfx)|shadow|passwd|kubeconfig)$/;
const SENSITIVE_DIR = /(^|\/)(\.ssh|\.aws|\.gnupg|\.kube|\.docker|\.config\/gcloud|secrets)(\/|$)/;

/** A file that holds credentials (keys, tokens, passwords). */
export function isSensitivePath(path: string): boolean {
  return SENSITIVE_FILE.test(path) || SENSITIVE_DIR.test(path);
}

/** Environment variables named like credentials. */
export const SECRET_VARIABLE = /^(?:[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)[A-Z0-9_]*)$/;

const CODE_FILE = /\.([cm]?[jt]sx?|py|rb|go|rs|java|kt|php|sh|bash|c|cc|cpp|h|swift)$/;
export const isCodeFile = (path: string) => CODE_FILE.test(path);
