// What the trajectory shows about files before a given action: whether a file existed and what it
// contained (from listings, reads and command output), and which file accesses each action made.
import { posix } from 'node:path';
import { cut, excerpt, type Action, type Analysis } from '../actions.ts';
import { MAX_REASON } from '../detector.ts';
import { codeAccesses, fileAccesses, optionValue, type FileAccess } from '../files.ts';
import { isParseLimit } from '../parse-budget.ts';
import { analyseShell, type ShellCommand } from '../shell.ts';
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
  if (command.name === 'printf' && command.argv[0] !== undefined) return command.argv[0].replace(/\\n/g, '\n').replace(/\\t/g, '\t');
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
  return codeAccesses(code, runner.command, home);
}

/**
 * File accesses repeated for scripts run again unchanged from the same directory, in all: past this,
 * a rerun is noted as not judged instead (a script of thousands of commands run thousands of times
 * would cost their product). Each rerun is otherwise judged where it happens, as it may succeed where
 * the first failed or come after the agent saw the files it changes.
 */
const RERUN_ACCESSES = 100_000;

function collect(analysis: Analysis): Touch[] {
  const out: Touch[] = [];
  const { home } = analysis.context;
  // The last known content of each file the agent wrote, so a script it runs later is read as what it does,
  // with what it did from each directory it ran in (read once, repeated on each rerun).
  const written = new Map<string, { code: string; ranIn: Map<string | null, FileAccess[]>; skipped: boolean }>();
  let repeatable = RERUN_ACCESSES;
  for (let at = 0; at < analysis.actions.length; at++) {
    const action = analysis.actions[at]!;
    if (action.kind === 'write') {
      out.push(toolTouch(action, at, 'write', action.path, action.content));
      if (action.path !== null) written.set(action.path, { code: action.content, ranIn: new Map(), skipped: false });
    } else if (action.kind === 'edit') out.push(toolTouch(action, at, 'edit', action.path, action.newText, action.oldText));
    else if (action.kind === 'read' || action.kind === 'list') out.push(toolTouch(action, at, action.kind, action.path));
    else if (action.kind === 'shell') {
      for (const command of action.script.commands) {
        for (const access of fileAccesses(command, home)) {
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
          for (const a of inner) out.push({ action, at, access: a, content: a.content ?? null, replaced: null, command });
        }
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
