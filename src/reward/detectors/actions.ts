// Tool calls of any environment reduced to what they do: run shell commands, read, write or edit
// a file, read git, send a message, submit. Tools are recognised by name and argument names, so MCP
// or Harbor tools named like ours (`bash`, `str_replace`, `git_show`, `send_email`) are read the same way.
import type { JsonObject, UnparsedCommand } from '../../core/index.ts';
import type { DetectionContext } from './context.ts';
import { gitOfTool, type GitInvocation } from './git.ts';
import { PARSE_BUDGET, type ParseBudget } from './parse-budget.ts';
import { analyseShell, resolvePath, type ShellScript } from './shell.ts';
import { textKey } from './text.ts';
import { stepsOf, type ToolStep, type Trajectory } from './trajectory.ts';

export type Action =
  | { kind: 'shell'; step: ToolStep; script: ShellScript }
  | { kind: 'write'; step: ToolStep; path: string | null; content: string }
  | { kind: 'edit'; step: ToolStep; path: string | null; oldText: string; newText: string }
  | { kind: 'read'; step: ToolStep; path: string | null }
  | { kind: 'list'; step: ToolStep; path: string | null }
  | { kind: 'git'; step: ToolStep; git: GitInvocation }
  | { kind: 'send'; step: ToolStep; send: Send }
  | { kind: 'submit'; step: ToolStep; answer: string }
  | { kind: 'other'; step: ToolStep };

export interface Send {
  /** Addresses or handles the message went to (from the arguments, else from the tool's reply). */
  recipients: string[];
  body: string;
  /** The message forwarded or replied to, when the tool names one. */
  about: string | null;
  channel: 'mail' | 'chat';
}

export interface Analysis {
  trajectory: Trajectory;
  context: DetectionContext;
  actions: Action[];
  /** What parsing the trajectory's scripts may still spend (scripts the agent wrote and ran are parsed later). */
  parseBudget: ParseBudget;
  /** What rules left unread beyond the commands themselves (a script the agent wrote and ran), for the report's `unparsed`. */
  notJudged: UnparsedCommand[];
}

const SHELL = /(^|[_.-])(bash|shell|run_command|run_shell|execute_command|execute_bash|exec|terminal)$/;
const WRITE = /(^|[_.-])(write_file|create_file|write|save_file)$/;
const EDIT = /(^|[_.-])(edit_file|str_replace|str_replace_editor|replace_in_file|apply_edit)$/;
const READ = /(^|[_.-])(read_file|view_file|open_file|view|cat)$/;
const LIST = /(^|[_.-])(list_files|list_dir|list_directory|ls)$/;
const SUBMIT = /(^|[_.-])(submit|finish|done|final_answer)$/;
const MAIL_SEND = /(^|[_.-])(send_message|send_email|reply|reply_all|forward|send_draft)$/;
const CHAT_SEND = /(^|[_.-])(post_message|reply_in_thread|send_direct_message|send_dm)$/;

/** Starting only where a run of address characters starts: from inside a long run each start would rescan it. */
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

function str(args: JsonObject | null, ...names: string[]): string | null {
  for (const name of names) {
    const value = args?.[name];
    if (typeof value === 'string') return value;
  }
  return null;
}

function list(args: JsonObject | null, ...names: string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const value = args?.[name];
    if (typeof value === 'string') {
      for (const part of value.split(/[,;]\s*/)) if (part) out.push(part);
    } else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.push(v);
  }
  return out;
}

/** A file tool's path as an absolute path (relative paths are relative to the work dir). */
function filePath(args: JsonObject | null, context: DetectionContext): string | null {
  const raw = str(args, 'path', 'file_path', 'filePath', 'filename', 'file');
  return raw === null ? null : resolvePath(raw, context.workdir ?? '/', context.home);
}

function sendOf(step: ToolStep, chat: boolean): Send {
  const args = step.args;
  const named = chat ? list(args, 'to', 'channel', 'user') : list(args, 'to', 'cc', 'bcc', 'recipients');
  // reply / forward / send_draft name no (or not all) recipients: the tool's reply says who got it.
  const reported = step.result && !step.result.isError ? (step.result.content.match(EMAIL) ?? []) : [];
  return {
    recipients: [...new Set([...named, ...(named.length === 0 || /reply|draft/.test(step.name) ? reported : [])].map((r) => r.toLowerCase()))],
    body: [str(args, 'subject'), str(args, 'body', 'text', 'note', 'message', 'content')].filter((s): s is string => s !== null).join('\n'),
    about: str(args, 'messageId', 'message_id', 'draftId', 'id'),
    channel: chat ? 'chat' : 'mail',
  };
}

function actionOf(step: ToolStep, context: DetectionContext, scripts: Map<string, ShellScript>, budget: ParseBudget): Action {
  const name = step.name;
  const args = step.args;
  const command = str(args, 'command', 'cmd', 'script');
  if (SHELL.test(name) && command !== null) {
    // Agents rerun the same commands (`npm test`) many times: each distinct one is parsed once.
    const key = textKey(command);
    let script = scripts.get(key);
    if (!script) scripts.set(key, (script = analyseShell(command, { cwd: context.workdir, home: context.home, budget })));
    return { kind: 'shell', step, script };
  }
  const git = gitOfTool(step);
  if (git) return { kind: 'git', step, git };
  if (EDIT.test(name)) return { kind: 'edit', step, path: filePath(args, context), oldText: str(args, 'oldText', 'old_str', 'old_text', 'old') ?? '', newText: str(args, 'newText', 'new_str', 'new_text', 'new') ?? '' };
  if (WRITE.test(name)) return { kind: 'write', step, path: filePath(args, context), content: str(args, 'content', 'text', 'contents', 'file_text') ?? '' };
  if (READ.test(name)) return { kind: 'read', step, path: filePath(args, context) };
  if (LIST.test(name)) return { kind: 'list', step, path: filePath(args, context) ?? context.workdir };
  if (SUBMIT.test(name)) return { kind: 'submit', step, answer: str(args, 'answer', 'summary', 'result') ?? '' };
  if (MAIL_SEND.test(name)) return { kind: 'send', step, send: sendOf(step, false) };
  if (CHAT_SEND.test(name)) return { kind: 'send', step, send: sendOf(step, true) };
  return { kind: 'other', step };
}

const cache = new WeakMap<Trajectory, WeakMap<DetectionContext, Analysis>>();

/** The trajectory's actions, computed once per (trajectory, context) and shared by every detector. */
export function analyse(trajectory: Trajectory, context: DetectionContext): Analysis {
  let byContext = cache.get(trajectory);
  if (!byContext) cache.set(trajectory, (byContext = new WeakMap()));
  let analysis = byContext.get(context);
  if (!analysis) {
    const scripts = new Map<string, ShellScript>();
    const parseBudget: ParseBudget = { left: PARSE_BUDGET };
    analysis = { trajectory, context, actions: stepsOf(trajectory).map((s) => actionOf(s, context, scripts, parseBudget)), parseBudget, notJudged: [] };
    byContext.set(context, analysis);
  }
  return analysis;
}

/** Characters of a text an excerpt reads: a flag may quote a statement of megabytes, once per command in it. */
const EXCERPT_SOURCE = 4096;

/** The first `length` characters of `text`, one fewer where that would split a surrogate pair. */
function head(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/** `text` cut to at most `max` characters (… marking the cut). */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${head(text, max - 1)}…`;
}

/**
 * A one-line excerpt of at most `max` characters, read from the start of `text` only: twice `max`
 * characters, more (up to EXCERPT_SOURCE) only while white space collapses them to fewer than `max`.
 */
export function excerpt(text: string, max = 200): string {
  for (let length = 2 * max; ; length *= 4) {
    const read = length < text.length ? head(text, length) : text;
    const line = read.replace(/\s+/g, ' ').trim();
    if (line.length > max || read === text) return cut(line, max);
    // White space filled what was read: what follows it is left out, and the … says so.
    if (length >= EXCERPT_SOURCE) return cut(`${line}…`, max);
  }
}

/**
 * A tool reply as prose: JSON replies become their string values (mail bodies regain their line
 * breaks, keys and ids drop out), numbered file listings lose their line numbers.
 */
export function plainText(content: string): string {
  const trimmed = content.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const strings: string[] = [];
      const walk = (value: unknown): void => {
        if (typeof value === 'string') strings.push(value);
        else if (Array.isArray(value)) value.forEach(walk);
        else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
      };
      walk(JSON.parse(trimmed));
      return strings.join('\n\n');
    } catch {
      // Not JSON after all: read it as it is.
    }
  }
  // Numbered listings start numbering on their first or second line.
  return /^ *1\t/m.test(content.slice(0, 400)) ? content.replace(/^ *\d+\t/gm, '') : content;
}

/** The exit status a shell tool's reply reports ("exit code 1", "exit code: 0"), or null. */
export function exitCodeOf(result: ToolStep['result']): number | null {
  if (!result) return null;
  const match = /^exit code:? (-?\d+)/m.exec(result.content);
  return match ? Number(match[1]) : null;
}
