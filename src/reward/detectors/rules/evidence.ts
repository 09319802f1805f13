// What the trajectory shows about files before a given action: whether a file existed and what it
// contained (from listings, reads and command output), and which file accesses each action made.
import { posix } from 'node:path';
import type { Action, Analysis } from '../actions.ts';
import { codeAccesses, fileAccesses, optionValue, type FileAccess } from '../files.ts';
import { analyseShell, type ShellCommand } from '../shell.ts';

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

/** What a script the agent wrote does to files when it runs: its shell commands', or its code's writes and deletions by literal path. */
function scriptAccesses(path: string, code: string, runner: ShellCommand, home: string): FileAccess[] {
  if (/\.(?:sh|bash)$/.test(path) || /^#!\S*\b(?:ba|da|z)?sh\b/.test(code)) {
    const script = analyseShell(code, { cwd: runner.cwd, home });
    return script.commands.flatMap((c) =>
      fileAccesses(c, home).map((a) => {
        const content = a.content ?? (a.mode === 'write' ? shellContent(c) : null);
        return content === null ? a : { ...a, content };
      }),
    );
  }
  return codeAccesses(code, runner, home);
}

function collect(analysis: Analysis): Touch[] {
  const out: Touch[] = [];
  const { home } = analysis.context;
  // The last known content of each file the agent wrote, so a script it runs later is read as what it does.
  const written = new Map<string, string>();
  for (let at = 0; at < analysis.actions.length; at++) {
    const action = analysis.actions[at]!;
    if (action.kind === 'write') {
      out.push(toolTouch(action, at, 'write', action.path, action.content));
      if (action.path !== null) written.set(action.path, action.content);
    } else if (action.kind === 'edit') out.push(toolTouch(action, at, 'edit', action.path, action.newText, action.oldText));
    else if (action.kind === 'read' || action.kind === 'list') out.push(toolTouch(action, at, action.kind, action.path));
    else if (action.kind === 'shell') {
      for (const command of action.script.commands) {
        for (const access of fileAccesses(command, home)) {
          const content = access.content ?? (access.mode === 'write' ? shellContent(command) : null);
          out.push({ action, at, access, content, replaced: null, command });
          if (access.mode === 'write' && access.path !== null && content !== null) written.set(access.path, content);
          const code = access.mode === 'exec' && access.path !== null ? written.get(access.path) : undefined;
          if (code === undefined) continue;
          for (const inner of scriptAccesses(access.path!, code, command, home)) out.push({ action, at, access: inner, content: inner.content ?? null, replaced: null, command });
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

/** The file's content as the agent last saw it before action `before` (a read tool or `cat`). */
export function contentSeen(all: readonly Touch[], path: string, before: number): string | null {
  let seen: string | null = null;
  for (const t of all) {
    if (t.at >= before) break;
    if (t.access.mode !== 'read' || t.access.path !== path || !t.action.step.result || t.action.step.result.isError) continue;
    const isWholeFile = t.action.kind === 'read' || (t.action.kind === 'shell' && t.action.script.commands.length === 1 && t.action.script.commands[0]!.name === 'cat');
    if (isWholeFile) seen = stripLineNumbers(t.action.step.result.content);
  }
  return seen;
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
  const base = posix.basename(path);
  return all.some(
    (t) =>
      t.at < touch.at &&
      ((base.length >= 4 && (t.action.step.result?.content ?? '').includes(base)) ||
        (t.access.path === path && (t.access.mode === 'read' || t.access.mode === 'edit') && t.action.step.result !== null && !t.action.step.result.isError)),
  );
}

