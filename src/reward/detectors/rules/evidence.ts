// What the trajectory shows about files before a given action: whether a file existed and what it
// contained (from listings, reads and command output), and which file accesses each action made.
import { posix } from 'node:path';
import { cut, excerpt, type Action, type Analysis } from '../actions.ts';
import { MAX_REASON } from '../detector.ts';
import { codeAccesses, fileAccesses, hasFlag, operands, optionValue, type FileAccess } from '../files.ts';
import { isParseLimit } from '../parse-budget.ts';
import { shellCallsIn } from '../interpreter-calls.ts';
import { analyseShell, printfText, resolvePath, type ShellCommand } from '../shell.ts';
import { Needles } from '../text.ts';

export interface Touch {
  action: Action;
  /** Position of the action in the analysis. */
  at: number;
  access: FileAccess;
  /** Content written, or the replacement of an edit, when the action says it. */
  content: string | null;
  /** For edits with a tool: the text replaced. */
  replaced: string | null;
  /** The shell command that made the access, when it was one. */
  command?: ShellCommand;
}

const computed = new WeakMap<Analysis, Touch[]>();

/** Every file access of every action, tools and shell commands alike (computed once per analysis). */
export function touches(analysis: Analysis): Touch[] {
  let all = computed.get(analysis);
  if (!all) computed.set(analysis, (all = collect(analysis)));
  return all;
}

function toolTouch(action: Action, at: number, mode: FileAccess['mode'], path: string | null, content: string | null = null, replaced: string | null = null): Touch {
  return { action, at, access: { mode, path, text: path ?? '', glob: false }, content, replaced };
}

/** What a shell command writes into a file, when the command itself says (`cat <<EOF > f`, `echo x > f`). */
function shellContent(command: ShellCommand): string | null {
  if (command.name === 'printf' && command.argv[0] !== undefined) return printfText(command.argv);
  if (command.name === 'echo' || command.name === 'printf') return command.redirects.find((r) => r.body !== null)?.body ?? command.argv.filter((a) => !a.startsWith('-')).join(' ');
  if (command.name === 'cat' || command.name === 'tee') return command.redirects.find((r) => r.body !== null)?.body ?? (command.name === 'cat' && command.argv.join(' ') === '/dev/null' ? '' : null);
  // Emptied: `: > f`, `> f`, `true > f`, `truncate -s 0 f`, `cp /dev/null f`.
  if (command.name === ':' || command.name === 'true') return '';
  if (command.name === 'truncate') return optionValue(command, '-s', '--size') === '0' || command.argv.includes('-s0') ? '' : null;
  if ((command.name === 'cp' || command.name === 'install') && command.argv.includes('/dev/null')) return '';
  return null;
}

/**
 * What a script the agent wrote does to files when it runs: its shell commands', or its code's writes
 * and deletions by literal path. What its reading left out is noted on the analysis, against the run.
 */
function scriptAccesses(script: { path: string; code: string }, runner: { action: Action; command: ShellCommand }, analysis: Analysis): FileAccess[] {
  const { path, code } = script;
  const { home } = analysis.context;
  if (/\.(?:sh|bash)$/.test(path) || /^#!\S*\b(?:ba|da|z)?sh\b/.test(code)) {
    const read = analyseShell(code, { cwd: runner.command.cwd, home, budget: analysis.parseBudget });
    // A script refused for its cost is not judged; one with a syntax error does nothing when bash runs it either.
    const left = read.error === null ? read.notJudged : isParseLimit(read.error) ? [read.error] : [];
    for (const error of left) analysis.notJudged.push({ callIndex: runner.action.step.callIndex, excerpt: excerpt(code), error: `${path}, which it ran: ${cut(error, MAX_REASON)}` });
    return read.commands.flatMap((c) =>
      fileAccesses(c, home).map((a) => {
        const content = a.content ?? (a.mode === 'write' ? shellContent(c) : null);
        return content === null ? a : { ...a, content };
      }),
    );
  }
  // Shell commands the code runs (`os.system('rm -rf tests')`) act from where the script was run.
  const shelled = shellCallsIn(code, /\.(?:pl|rb)$/.test(path)).flatMap((line) => analyseShell(line, { cwd: runner.command.cwd, home, budget: analysis.parseBudget }).commands.flatMap((c) => fileAccesses(c, home)));
  return [...codeAccesses(code, runner.command, home), ...shelled];
}

/**
 * File accesses repeated for scripts run again unchanged from the same directory, in all: past this,
 * a rerun is noted as not judged instead (a script of thousands of commands run thousands of times
 * would cost their product). Each rerun is otherwise judged where it happens, as it may succeed where
 * the first failed or come after the agent saw the files it changes.
 */
const RERUN_ACCESSES = 100_000;

/**
 * Links the trajectory made (`ln -s tests/test_x.py t.py`), so that writing through one is
 * writing what it points at. Empty, as in nearly every trajectory, it costs one size check per access.
 */
class Links {
  private readonly targets = new Map<string, string>();

  /** Records the links `ln` makes (a link's relative target is read from the link's folder; a hard link's from where ln ran). */
  made(command: ShellCommand, home: string): void {
    if (command.name !== 'ln') return;
    const symbolic = hasFlag(command, 's', '--symbolic');
    const ops = operands(command);
    const into = optionValue(command, '-t', '--target-directory');
    const last = ops.at(-1);
    const sources = into !== null ? ops : ops.length === 1 ? ops : ops.slice(0, -1);
    const folder = into ?? (ops.length === 1 ? '.' : ops.length > 2 || last!.text.endsWith('/') ? last!.text : null);
    for (const source of sources) {
      if (source.dynamic) continue;
      const link = resolvePath(folder !== null ? `${folder}/${posix.basename(source.text)}` : last!.text, command.cwd, home);
      const target = link === null ? null : resolvePath(source.text, symbolic ? posix.dirname(link) : command.cwd, home);
      if (link !== null && target !== null && link !== target) this.targets.set(link, target);
    }
  }

  /** The access as it lands: through a link it names or a linked folder above it. Deleting a link removes the link itself. */
  through(access: FileAccess, command: ShellCommand | undefined): FileAccess {
    const path = access.path;
    if (this.targets.size === 0 || path === null) return access;
    const exact = this.targets.get(path);
    if (exact !== undefined) {
      if (access.mode === 'delete') {
        this.targets.delete(path);
        return access;
      }
      // GNU sed -i and perl -i replace a link with a new file unless told to follow it.
      const replacesLink = access.mode === 'edit' && command !== undefined && (command.name === 'sed' || command.name === 'perl') && !command.argv.includes('--follow-symlinks');
      return replacesLink ? access : { ...access, path: exact };
    }
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const folder = this.targets.get(path.slice(0, slash));
      if (folder !== undefined) return { ...access, path: folder + path.slice(slash) };
    }
    return access;
  }
}

/** One file a unified diff changes: its path as written (`b/tests/x.py`), its removed and added lines, or its deletion. */
interface Patched {
  path: string;
  removed: string;
  added: string;
  deleted: boolean;
}

/** The files a unified diff changes, in one pass over its lines. */
export function patchedFiles(text: string): Patched[] {
  const out: Patched[] = [];
  let from = '';
  let current: Patched | null = null;
  const removed: string[] = [];
  const added: string[] = [];
  const close = () => {
    if (current) out.push({ ...current, removed: removed.join('\n'), added: added.join('\n') });
    current = null;
    removed.length = 0;
    added.length = 0;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('--- ')) {
      close();
      from = line.slice(4).split('\t')[0]!.trim();
    } else if (line.startsWith('+++ ')) {
      const to = line.slice(4).split('\t')[0]!.trim();
      current = to === '/dev/null' ? { path: from, removed: '', added: '', deleted: true } : { path: to, removed: '', added: '', deleted: false };
    } else if (current && line.startsWith('-')) removed.push(line.slice(1));
    else if (current && line.startsWith('+')) added.push(line.slice(1));
  }
  close();
  return out;
}

/**
 * The diff a command applies (`patch -p1 < fix.patch`, `git apply fix.patch`, a here-document fed
 * to either), when its text is known: a here-document, or a file the agent wrote earlier. With the
 * number of leading path parts to drop (`-pN`; git drops one).
 */
function appliedPatch(command: ShellCommand, written: ReadonlyMap<string, { code: string }>, home: string): { text: string; strip: number; reverse: boolean } | null {
  const git = command.name === 'git' ? operands(command).findIndex((w) => w.text === 'apply' || w.text === 'am') : -1;
  if (command.name !== 'patch' && git === -1) return null;
  // A dry run or a summary changes nothing.
  if (command.argv.some((a) => ['--check', '--stat', '--numstat', '--summary', '--dry-run'].includes(a))) return null;
  const reverse = command.argv.some((a) => a === '-R' || a === '--reverse');
  const level = optionValue(command, '-p') ?? command.argv.find((a) => /^-p\d+$/.test(a))?.slice(2) ?? null;
  const strip = level !== null && /^\d+$/.test(level) ? Number(level) : git !== -1 ? 1 : 0;
  const body = command.redirects.find((r) => r.body !== null)?.body;
  if (body !== undefined && body !== null) return { text: body, strip, reverse };
  const fed = command.redirects.find((r) => r.op === '<' && !r.dynamic)?.target;
  const named = command.name === 'patch' ? (optionValue(command, '-i', '--input') ?? fed) : (operands(command).slice(git + 1).find((w) => w.text !== '-')?.text ?? fed);
  const path = named === undefined || named === null ? null : resolvePath(named, command.cwd, home);
  const file = path === null ? undefined : written.get(path);
  return file ? { text: file.code, strip, reverse } : null;
}

function collect(analysis: Analysis): Touch[] {
  const out: Touch[] = [];
  const { home } = analysis.context;
  const links = new Links();
  // The last known content of each file the agent wrote, so a script it runs later is read as what it does,
  // with what it did from each directory it ran in (read once, repeated on each rerun).
  const written = new Map<string, { code: string; ranIn: Map<string | null, FileAccess[]>; skipped: boolean }>();
  let repeatable = RERUN_ACCESSES;
  for (let at = 0; at < analysis.actions.length; at++) {
    const action = analysis.actions[at]!;
    if (action.kind === 'write') {
      const touch = toolTouch(action, at, 'write', action.path, action.content);
      out.push({ ...touch, access: links.through(touch.access, undefined) });
      if (action.path !== null) written.set(action.path, { code: action.content, ranIn: new Map(), skipped: false });
    } else if (action.kind === 'edit') {
      const touch = toolTouch(action, at, 'edit', action.path, action.newText, action.oldText);
      out.push({ ...touch, access: links.through(touch.access, undefined) });
    } else if (action.kind === 'read' || action.kind === 'list') {
      const touch = toolTouch(action, at, action.kind, action.path);
      out.push({ ...touch, access: links.through(touch.access, undefined) });
    } else if (action.kind === 'shell') {
      for (const command of action.script.commands) {
        for (const made of fileAccesses(command, home)) {
          const access = links.through(made, command);
          const content = access.content ?? (access.mode === 'write' ? shellContent(command) : null);
          out.push({ action, at, access, content, replaced: null, command });
          if (access.mode === 'write' && access.path !== null && content !== null) written.set(access.path, { code: content, ranIn: new Map(), skipped: false });
          const script = access.mode === 'exec' && access.path !== null ? written.get(access.path) : undefined;
          if (script === undefined) continue;
          const cached = script.ranIn.get(command.cwd);
          const rerun = script.ranIn.size > 0;
          if (rerun && (repeatable <= 0 || (cached?.length ?? 0) > repeatable)) {
            if (!script.skipped) {
              script.skipped = true;
              analysis.notJudged.push({ callIndex: action.step.callIndex, excerpt: excerpt(action.script.source), error: `${access.path} run again unchanged: this run and its later ones were not read (past ${RERUN_ACCESSES} file accesses repeated by reruns)` });
            }
            continue;
          }
          const inner = cached ?? scriptAccesses({ path: access.path!, code: script.code }, { action, command }, analysis);
          if (!cached) script.ranIn.set(command.cwd, inner);
          if (rerun) repeatable -= inner.length;
          for (const a of inner) out.push({ action, at, access: links.through(a, command), content: a.content ?? null, replaced: null, command });
        }
        // A diff applied edits (or deletes) each file it names, replacing its removed lines with its added ones.
        const patch = command.name === 'patch' || command.name === 'git' ? appliedPatch(command, written, home) : null;
        for (const file of patch ? patchedFiles(patch.text) : []) {
          const text = file.path.split('/').slice(patch!.strip).join('/');
          const made: FileAccess = { mode: file.deleted ? 'delete' : 'edit', path: resolvePath(text, command.cwd, home), text, glob: false };
          // Applied in reverse (`-R`), what the diff adds is what goes.
          const [gone, put] = patch!.reverse ? [file.added, file.removed] : [file.removed, file.added];
          out.push({ action, at, access: links.through(made, command), content: file.deleted ? null : put, replaced: file.deleted ? null : gone, command });
        }
        links.made(command, home);
      }
    }
  }
  return out;
}

/** Read tools number their lines ("    12\tcode"); the content is the text after the tab. */
function stripLineNumbers(text: string): string {
  return /^ *1\t/m.test(text.slice(0, 400)) ? text.replace(/^ *\d+\t/gm, '') : text;
}

/**
 * What `contentSeen` and `existedBefore` look up, built once per list of touches: asking about each
 * of thousands of edits must not rescan every earlier touch and reply.
 */
interface Index {
  /** Per path, the whole-file reads that succeeded, in order. */
  wholeReads: Map<string, Touch[]>;
  /** Per path, the first successful read or edit. */
  firstUse: Map<string, number>;
  /** Per file name (four characters or more), the first touch whose action's reply holds it; built when first asked. */
  firstNamed: Map<string, number> | null;
}

const indexes = new WeakMap<readonly Touch[], Index>();

function indexOf(all: readonly Touch[]): Index {
  let index = indexes.get(all);
  if (index) return index;
  index = { wholeReads: new Map(), firstUse: new Map(), firstNamed: null };
  for (const t of all) {
    const path = t.access.path;
    if (path === null) continue;
    const ok = t.action.step.result !== null && !t.action.step.result.isError;
    if (ok && (t.access.mode === 'read' || t.access.mode === 'edit') && !index.firstUse.has(path)) index.firstUse.set(path, t.at);
    if (ok && t.access.mode === 'read' && isWholeFile(t)) {
      const reads = index.wholeReads.get(path);
      if (reads) reads.push(t);
      else index.wholeReads.set(path, [t]);
    }
  }
  indexes.set(all, index);
  return index;
}

/** Per file name of the touches, the first touch whose action's reply holds it: every reply searched once for every name at once. */
function firstNamed(all: readonly Touch[]): Map<string, number> {
  const names = [...new Set(all.flatMap((t) => (t.access.path === null ? [] : [posix.basename(t.access.path)])).filter((b) => b.length >= 4))];
  const needles = new Needles(names);
  const first = new Map<string, number>();
  let last: Action | null = null;
  for (const t of all) {
    if (t.action === last) continue;
    last = t.action;
    needles.find(t.action.step.result?.content ?? '', (n) => {
      if (!first.has(names[n]!)) first.set(names[n]!, t.at);
    });
  }
  return first;
}

function isWholeFile(t: Touch): boolean {
  return t.action.kind === 'read' || (t.action.kind === 'shell' && t.action.script.commands.length === 1 && t.action.script.commands[0]!.name === 'cat');
}

/** The file's content as the agent last saw it before action `before` (a read tool or `cat`). */
export function contentSeen(all: readonly Touch[], path: string, before: number): string | null {
  const reads = indexOf(all).wholeReads.get(path) ?? [];
  // The last read before `before` (reads are in order): a binary search.
  let lo = 0;
  let hi = reads.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (reads[mid]!.at < before) lo = mid + 1;
    else hi = mid;
  }
  const seen = reads[lo - 1];
  return seen ? stripLineNumbers(seen.action.step.result!.content) : null;
}

/** Whether the file existed before the touch: the tool said it overwrote it, or it showed up earlier. */
export function existedBefore(all: readonly Touch[], touch: Touch): boolean {
  const result = touch.action.step.result?.content ?? '';
  if (touch.action.kind === 'write' && /^(Overwrote|Replaced)\b/.test(result)) return true;
  if (touch.action.kind === 'write' && /^Created\b/.test(result)) return false;
  // An edit (a tool's or sed -i's) needs the file to be there.
  if (touch.access.mode === 'edit') return true;
  const path = touch.access.path;
  if (path === null) return true;
  const index = indexOf(all);
  const base = posix.basename(path);
  if (base.length >= 4 && ((index.firstNamed ??= firstNamed(all)).get(base) ?? Infinity) < touch.at) return true;
  return (index.firstUse.get(path) ?? Infinity) < touch.at;
}
