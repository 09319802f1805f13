// The agent's tools over the repo in the sandbox: run commands, read/write/edit files, list and
// search. Every mutation and command is recorded in the `audit` table (deterministic columns only:
// no durations or output, so the same actions give the same state).
import { z } from 'zod';
import type { Sandbox } from '../../core/index.ts';
import { relativeToWorkdir } from '../../sandbox/index.ts';
import { defineTool, ToolError, type EpisodeContext, type ToolDefinition } from '../define.ts';
import { ranInSandbox } from '../sandbox-failure.ts';
import { agentFileAccess } from '../sandbox-files.ts';
import { requireProcessSandbox } from './checks.ts';
import { searchLines } from './line-search.ts';

export const auditSchema = `
CREATE TABLE audit (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  tool TEXT NOT NULL,
  path TEXT,
  command TEXT,
  exit_code INTEGER,
  detail TEXT
);`;

interface AuditEntry {
  tool: string;
  path?: string;
  command?: string;
  exitCode?: number;
  detail?: string;
}

function audit(ctx: EpisodeContext, entry: AuditEntry): void {
  ctx.db
    .prepare('INSERT INTO audit (id, at, tool, path, command, exit_code, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(ctx.ids.next('act'), ctx.clock.now().toISOString(), entry.tool, entry.path ?? null, entry.command ?? null, entry.exitCode ?? null, entry.detail ?? null);
}

/** The path relative to the work dir, or a ToolError the model can act on. */
function relPath(sandbox: Sandbox, path: string, allowRoot = false): string {
  const result = relativeToWorkdir(path.trim() || '.', sandbox.workdir);
  if (!result.ok) throw new ToolError(`${result.error}; paths are relative to the repo root ${sandbox.workdir}`);
  if (result.rel === '' && !allowRoot) throw new ToolError(`"${path}" is the repo root, not a file`);
  return result.rel;
}

async function readText(sandbox: Sandbox, rel: string): Promise<string> {
  const text = await agentFileAccess(rel, () => sandbox.readFile(rel));
  if (text !== null) return text;
  const isFolder = (await sandbox.listFiles()).some((f) => f.path.startsWith(`${rel}/`));
  throw new ToolError(isFolder ? `${rel} is a folder; list_files shows its files` : `${rel}: no such file (list_files shows what exists)`);
}

/** Long output keeps its head and its tail: test runners print the summary last. */
function clip(text: string, max = 12_000): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max / 3);
  const tail = text.slice(-(max * 2) / 3);
  return `${head}\n… [${text.length - head.length - tail.length} characters cut] …\n${tail}`;
}

/** search_code's limits: matches listed, and how long the agent's pattern may run over the files. */
const MAX_SEARCH_HITS = 100;
const SEARCH_TIMEOUT_MS = 5_000;

const lineCount = (text: string) => (text === '' ? 0 : text.replace(/\n$/, '').split('\n').length);

export const run_command = defineTool({
  description:
    'Run a bash command in the repo root (/work) inside the sandbox, e.g. `node --test` or `node --test test/cart.test.js`. Node.js 20 is installed; there is no network. Returns the exit code, stdout and stderr.',
  input: z.object({
    command: z.string().min(1).refine((c) => !c.includes('\0'), 'a command line without NUL bytes (\\0)').describe('the bash command line'),
    timeoutSeconds: z.number().int().min(1).max(120).optional().describe('kill the command after this many seconds (default 60)'),
  }),
  run: async ({ command, timeoutSeconds }, ctx) => {
    const sandbox = requireProcessSandbox(ctx.sandbox);
    const result = ranInSandbox(await sandbox.exec(command, { timeoutMs: (timeoutSeconds ?? 60) * 1000, signal: ctx.signal }), 'run_command');
    audit(ctx, { tool: 'run_command', command, exitCode: result.exitCode, ...(result.timedOut ? { detail: 'timed out' } : {}) });
    const status = result.timedOut ? `timed out after ${timeoutSeconds ?? 60}s (killed)` : `exit code ${result.exitCode}`;
    const parts = [status];
    if (result.stdout) parts.push(`stdout:\n${clip(result.stdout)}`);
    if (result.stderr) parts.push(`stderr:\n${clip(result.stderr, 6_000)}`);
    if (!result.stdout && !result.stderr) parts.push('(no output)');
    if (result.truncated) parts.push('(output was cut at the sandbox limit)');
    return parts.join('\n');
  },
});

export const read_file = defineTool({
  description: 'Read a text file with line numbers. Use offset (1-based first line) and limit to page through long files.',
  input: z.object({
    path: z.string().min(1).describe('path relative to the repo root'),
    offset: z.number().int().min(1).optional().describe('first line to show (default 1)'),
    limit: z.number().int().min(1).max(2000).optional().describe('how many lines (default 400)'),
  }),
  run: async ({ path, offset, limit }, ctx) => {
    const sandbox = requireProcessSandbox(ctx.sandbox);
    const rel = relPath(sandbox, path);
    const text = await readText(sandbox, rel);
    const lines = text.replace(/\n$/, '').split('\n');
    const total = lineCount(text);
    if (total === 0) return `${rel} is empty`;
    const start = offset ?? 1;
    if (start > total) throw new ToolError(`${rel} has ${total} lines; offset ${start} is past the end`);
    const end = Math.min(total, start + (limit ?? 400) - 1);
    const body = lines
      .slice(start - 1, end)
      .map((line, i) => `${String(start + i).padStart(6)}\t${line}`)
      .join('\n');
    const more = end < total ? `\n(${total - end} more lines: read_file with offset ${end + 1})` : '';
    return `${rel} (lines ${start}-${end} of ${total})\n${body}${more}`;
  },
});

export const write_file = defineTool({
  description: 'Create or overwrite a file with the given content (missing folders are created).',
  input: z.object({ path: z.string().min(1).describe('path relative to the repo root'), content: z.string().describe('the complete new content') }),
  run: async ({ path, content }, ctx) => {
    const sandbox = requireProcessSandbox(ctx.sandbox);
    const rel = relPath(sandbox, path);
    const existed = (await agentFileAccess(rel, () => sandbox.readFile(rel))) !== null;
    await agentFileAccess(rel, () => sandbox.writeFile(rel, content));
    audit(ctx, { tool: 'write_file', path: rel, detail: `${Buffer.byteLength(content)} bytes` });
    return `${existed ? 'Overwrote' : 'Created'} ${rel} (${lineCount(content)} lines)`;
  },
});

/** 1-based line numbers where `needle` starts in `text`. */
function occurrenceLines(text: string, needle: string): number[] {
  const lines: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) lines.push(lineCount(text.slice(0, at + 1)) || 1);
  return lines;
}

function describeLines(lines: number[]): string {
  const unique = [...new Set(lines)];
  return unique.length > 10 ? `${unique.slice(0, 10).join(', ')}, …` : unique.join(', ');
}

export const edit_file = defineTool({
  description:
    'Replace one exact occurrence of oldText with newText in a file. oldText must match the file exactly (whitespace and indentation included) and occur exactly once; include surrounding lines to make it unique.',
  input: z.object({
    path: z.string().min(1).describe('path relative to the repo root'),
    oldText: z.string().min(1).describe('the exact text to replace'),
    newText: z.string().describe('the replacement (may be empty to delete)'),
  }),
  run: async ({ path, oldText, newText }, ctx) => {
    const sandbox = requireProcessSandbox(ctx.sandbox);
    const rel = relPath(sandbox, path);
    const text = await readText(sandbox, rel);
    const at = occurrenceLines(text, oldText);
    if (at.length === 0) {
      const trimmed = oldText.trim();
      const hint = trimmed && text.includes(trimmed) ? ' (it matches once leading/trailing whitespace is removed: check indentation and line ends)' : '';
      throw new ToolError(`oldText was not found in ${rel}${hint}; read_file shows the exact current text`);
    }
    if (at.length > 1) throw new ToolError(`oldText occurs ${at.length} times in ${rel} (lines ${describeLines(at)}); include more surrounding text so it matches exactly once`);
    if (oldText === newText) throw new ToolError('oldText and newText are identical: nothing to change');
    const index = text.indexOf(oldText);
    await agentFileAccess(rel, () => sandbox.writeFile(rel, text.slice(0, index) + newText + text.slice(index + oldText.length)));
    const detail = `replaced ${lineCount(oldText)} line(s) with ${lineCount(newText)} at line ${at[0]}`;
    audit(ctx, { tool: 'edit_file', path: rel, detail });
    return `Edited ${rel}: ${detail}`;
  },
});

export const list_files = defineTool({
  description: 'List the files under a folder of the repo (recursively), with their sizes in bytes.',
  input: z.object({ path: z.string().optional().describe('folder relative to the repo root (default: the whole repo)') }),
  run: async ({ path }, ctx) => {
    const sandbox = requireProcessSandbox(ctx.sandbox);
    const rel = relPath(sandbox, path ?? '.', true);
    const all = await sandbox.listFiles();
    const files = all.filter((f) => rel === '' || f.path === rel || f.path.startsWith(`${rel}/`));
    if (files.length === 0) throw new ToolError(`${rel}: no such folder or file (or it is empty)`);
    const shown = files.slice(0, 500);
    const more = files.length > shown.length ? `\n(${files.length - shown.length} more; list a subfolder)` : '';
    return `${files.length} file(s) under ${rel || '.'}:\n${shown.map((f) => `${f.path}  ${f.size}`).join('\n')}${more}`;
  },
});

export const search_code = defineTool({
  description:
    'Search file contents for a JavaScript regular expression (like grep -rn). Returns `path:line: text` for each matching line, at most 100.',
  input: z.object({
    pattern: z.string().min(1).describe('regular expression, e.g. "function parse" or "TODO|FIXME"'),
    path: z.string().optional().describe('folder or file to search (default: the whole repo)'),
    ignoreCase: z.boolean().optional().describe('case-insensitive (default false)'),
  }),
  run: async ({ pattern, path, ignoreCase }, ctx) => {
    const sandbox = requireProcessSandbox(ctx.sandbox);
    let regex: RegExp;
    try {
      regex = new RegExp(pattern, ignoreCase ? 'i' : '');
    } catch (error) {
      throw new ToolError(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}; escape special characters such as ( [ . * to match them literally`);
    }
    const rel = relPath(sandbox, path ?? '.', true);
    const listed = (await sandbox.listFiles()).filter((f) => (rel === '' || f.path === rel || f.path.startsWith(`${rel}/`)) && f.size <= 512_000);
    const files: { path: string; text: string }[] = [];
    for (const file of listed) {
      const text = await agentFileAccess(file.path, () => sandbox.readFile(file.path));
      if (text !== null && !text.includes('\0')) files.push({ path: file.path, text });
    }
    const found = await searchLines(pattern, regex.flags, files, { max: MAX_SEARCH_HITS, timeoutMs: SEARCH_TIMEOUT_MS });
    if (!found.ok) {
      throw new ToolError(`search_code: /${pattern}/ took over ${SEARCH_TIMEOUT_MS / 1000} s on ${files.length} files and was stopped; simplify the pattern (nested repetition such as (a+)+ backtracks without end) or narrow the path`);
    }
    const hits = found.hits.map((h) => `${h.path}:${h.line}: ${h.text.length > 200 ? `${h.text.slice(0, 200)}…` : h.text}`);
    if (found.stopped) return `${hits.join('\n')}\n(stopped at ${MAX_SEARCH_HITS} matches; narrow the pattern or the path)`;
    return hits.length === 0 ? `no matches for /${pattern}/ in ${rel || '.'} (${listed.length} files searched)` : hits.join('\n');
  },
});

export const submit = defineTool({
  description: 'Finish: call this once the change is complete and the tests pass. Ends the episode.',
  input: z.object({ summary: z.string().optional().describe('one or two sentences on what you changed') }),
  endsEpisode: true,
  run: ({ summary }, ctx) => {
    audit(ctx, { tool: 'submit', ...(summary ? { detail: summary.slice(0, 500) } : {}) });
    return { content: 'Submitted.', answer: summary ?? '' };
  },
});

export const codingTools: Record<string, ToolDefinition> = { run_command, read_file, write_file, edit_file, list_files, search_code, submit };
