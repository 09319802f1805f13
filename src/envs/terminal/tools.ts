// The agent's tools: a shell command plus direct file access, all inside the episode's sandbox.
import { z } from 'zod';
import type { Sandbox } from '../../core/index.ts';
import { defineTool, ToolError, type EpisodeContext } from '../define.ts';
import { ranInSandbox } from '../sandbox-failure.ts';
import { agentFileAccess } from '../sandbox-files.ts';
import { normalisePath } from './files.ts';

/** Longest a single command may run; the sandbox caps it too. */
const MAX_TIMEOUT_SECONDS = 120;
const DEFAULT_TIMEOUT_SECONDS = 30;
/** File contents returned by read_file beyond this are cut (the agent can page with run_command). */
const READ_LIMIT = 100_000;

function sandboxOf(ctx: EpisodeContext): Sandbox {
  if (!ctx.sandbox) throw new Error('terminal: no sandbox in the episode (the environment declares sandbox: true)');
  return ctx.sandbox;
}

function audit(ctx: EpisodeContext, row: { tool: string; target: string; exitCode?: number | null; timedOut?: boolean; truncated?: boolean }): void {
  ctx.db
    .prepare('INSERT INTO commands (id, tool, target, exit_code, timed_out, truncated, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(ctx.ids.next('cmd'), row.tool, row.target, row.exitCode ?? null, row.timedOut ? 1 : 0, row.truncated ? 1 : 0, ctx.clock.now().toISOString());
}

/** A command line: bash cannot be handed one with a NUL byte, and the sandbox refuses it as our defect. */
const CommandLine = z.string().min(1).refine((c) => !c.includes('\0'), 'a command line without NUL bytes (\\0)');

const pathField = z.string().min(1).describe('File path, relative to the working directory /work (or absolute under /work).');

export const runCommand = defineTool({
  description:
    'Run a bash command in the sandbox (working directory /work, no network). Returns the exit code, stdout and stderr; long output is cut.',
  input: z.object({
    command: CommandLine.describe('The command line, run with bash -c.'),
    timeoutSeconds: z.number().positive().max(MAX_TIMEOUT_SECONDS).optional().describe(`Time limit (default ${DEFAULT_TIMEOUT_SECONDS}).`),
  }),
  run: async ({ command, timeoutSeconds }, ctx) => {
    const result = ranInSandbox(
      await sandboxOf(ctx).exec(command, { timeoutMs: (timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000, signal: ctx.signal }),
      'run_command',
    );
    audit(ctx, { tool: 'run_command', target: command, exitCode: result.exitCode, timedOut: result.timedOut, truncated: result.truncated });
    const notes = [
      result.timedOut ? `(timed out after ${timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS} s)` : '',
      result.truncated ? '(output cut: too long)' : '',
    ].filter(Boolean);
    const content = [`exit code: ${result.exitCode}${notes.length ? ` ${notes.join(' ')}` : ''}`, `stdout:\n${result.stdout}`, `stderr:\n${result.stderr}`].join('\n');
    return {
      content,
      data: { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, truncated: result.truncated, timedOut: result.timedOut },
    };
  },
});

export const readFile = defineTool({
  description: 'Read a text file from the sandbox.',
  input: z.object({ path: pathField }),
  run: async ({ path }, ctx) => {
    const text = await agentFileAccess(path, () => sandboxOf(ctx).readFile(normalisePath(path)));
    audit(ctx, { tool: 'read_file', target: path });
    if (text === null) throw new ToolError(`read_file: no file at ${path}`);
    return text.length > READ_LIMIT ? `${text.slice(0, READ_LIMIT)}\n[… cut at ${READ_LIMIT} characters of ${text.length}]` : text;
  },
});

export const writeFile = defineTool({
  description: 'Write (create or replace) a text file in the sandbox; missing directories are created.',
  input: z.object({ path: pathField, content: z.string() }),
  run: async ({ path, content }, ctx) => {
    await agentFileAccess(path, () => sandboxOf(ctx).writeFile(normalisePath(path), content));
    audit(ctx, { tool: 'write_file', target: path });
    return `wrote ${Buffer.byteLength(content)} bytes to ${normalisePath(path)}`;
  },
});

export const listFiles = defineTool({
  description: 'List the files (with sizes) under a directory of the sandbox, recursively.',
  input: z.object({ path: z.string().default('.').describe('Directory, relative to /work (default: the whole work dir).') }),
  run: async ({ path }, ctx) => {
    const dir = normalisePath(path === '.' ? '' : path);
    if (dir.startsWith('..') || dir.startsWith('/')) throw new ToolError(`list_files: ${path} is outside the work dir /work`);
    const files = (await sandboxOf(ctx).listFiles()).filter((f) => dir === '' || f.path === dir || f.path.startsWith(`${dir}/`));
    audit(ctx, { tool: 'list_files', target: path });
    if (files.length === 0) return `no files under ${path}`;
    const shown = files.slice(0, 2000).map((f) => `${String(f.size).padStart(8)}  ${f.path}`);
    return files.length > shown.length ? `${shown.join('\n')}\n[… ${files.length - shown.length} more]` : shown.join('\n');
  },
});

export const submit = defineTool({
  description: 'Finish the task. Give `answer` when the task asks a question.',
  input: z.object({ answer: z.string().optional() }),
  endsEpisode: true,
  run: ({ answer }, ctx) => {
    audit(ctx, { tool: 'submit', target: answer ?? '' });
    return answer === undefined ? { content: 'submitted' } : { content: 'submitted', answer };
  },
});

export const terminalTools = {
  run_command: runCommand,
  read_file: readFile,
  write_file: writeFile,
  list_files: listFiles,
  submit,
};
