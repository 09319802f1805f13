// Moving the task's files between the environment's sandbox and the external agent's: out before
// the agent starts, back (changed and deleted files only) after it ends, so the environment's own
// verifier judges the final state in its own sandbox. Only through the environment's public tools
// (`run_command`, `write_file`): bytes travel base64-encoded between markers, so the transfer is
// exact whatever the tool's output format, and it works for every environment with those tools.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { InfraError, type Environment, type JsonValue } from '../../core/index.ts';

/** What the agent's sandbox does not get: installed packages and VCS metadata stay where they are. */
const EXCLUDED = ['node_modules', '.git'];
/** Base64 characters per tool call: below every environment's output cut. */
const PAGE = 8_000;
/** Bytes per write-back command: well below the kernel's 128 KiB limit on one argument. */
const WRITE_CHUNK = 48_000;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

export const REQUIRED_TOOLS = ['run_command', 'write_file'] as const;

/** Paths relative to the work dir -> sha256 of their bytes. */
export type WorkspaceManifest = Map<string, string>;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

export interface WorkspaceIo {
  environment: Environment;
  signal?: AbortSignal;
}

export function missingWorkspaceTools(environment: Environment): string[] {
  const names = new Set(environment.tools().map((tool) => tool.name));
  return REQUIRED_TOOLS.filter((name) => !names.has(name));
}

async function call(io: WorkspaceIo, tool: string, args: Record<string, JsonValue>): Promise<string> {
  const outcome = await io.environment.call(tool, args, { signal: io.signal ?? new AbortController().signal });
  if (!outcome.ok) throw new InfraError('environment', `moving files for the external agent: ${tool} failed (${outcome.kind}): ${outcome.error}`, { retryable: false });
  return outcome.content;
}

/** Runs `command` in the environment's sandbox and returns its stdout's bytes, page by page. */
async function commandBytes(io: WorkspaceIo, command: string): Promise<Buffer> {
  let text = '';
  for (let from = 1; ; from += PAGE) {
    if (text.length > (MAX_TOTAL_BYTES * 4) / 3) throw new InfraError('environment', `the task's files exceed ${MAX_TOTAL_BYTES} bytes; too large to hand to an external agent`, { retryable: false });
    const out = await call(io, 'run_command', { command: `printf '<<GAUNTLET:'; (${command}) | base64 -w0 | cut -c ${from}-${from + PAGE - 1}; printf ':GAUNTLET>>'` });
    const match = /<<GAUNTLET:\s*([A-Za-z0-9+/=]*)\s*:GAUNTLET>>/.exec(out);
    if (!match) throw new InfraError('environment', `moving files for the external agent: run_command gave no framed output for \`${command}\`: ${out.slice(0, 300)}`, { retryable: false });
    text += match[1];
    if ((match[1] ?? '').length < PAGE) return Buffer.from(text, 'base64');
  }
}

async function hostFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (EXCLUDED.includes(entry.name) && dir === root) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(root, full));
    }
  };
  await walk(root);
  return out.sort();
}

/** Copies the environment's work dir (less node_modules and .git) into `dir` on the host. */
export async function exportWorkspace(io: WorkspaceIo, dir: string): Promise<WorkspaceManifest> {
  const prune = EXCLUDED.map((name) => `-path ./${name} -prune`).join(' -o ');
  const listing = await commandBytes(io, `find . \\( ${prune} \\) -o -type f -printf '%P\\0'`);
  const paths = listing.toString('utf8').split('\0').filter(Boolean).sort();
  const manifest: WorkspaceManifest = new Map();
  for (const path of paths) {
    const bytes = await commandBytes(io, `cat -- ${shellQuote(path)}`);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
    manifest.set(path, sha256(bytes));
  }
  return manifest;
}

export interface WorkspaceChanges {
  written: string[];
  deleted: string[];
}

const isUtf8 = (bytes: Buffer) => Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);

/** Writes what the agent changed in `dir` back into the environment, and deletes what it removed. */
export async function importWorkspace(io: WorkspaceIo, dir: string, before: WorkspaceManifest): Promise<WorkspaceChanges> {
  const after = await hostFiles(dir);
  const written: string[] = [];
  for (const path of after) {
    const bytes = await readFile(join(dir, path));
    if (before.get(path) === sha256(bytes)) continue;
    if (isUtf8(bytes)) {
      await call(io, 'write_file', { path, content: bytes.toString('utf8') });
    } else {
      await call(io, 'run_command', { command: `mkdir -p -- ${shellQuote(dirname(path))} && : > ${shellQuote(path)}` });
      for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
        await call(io, 'run_command', { command: `printf %s ${bytes.subarray(at, at + WRITE_CHUNK).toString('base64')} | base64 -d >> ${shellQuote(path)}` });
      }
    }
    written.push(path);
  }
  const present = new Set(after);
  const deleted = [...before.keys()].filter((path) => !present.has(path));
  if (deleted.length > 0) await call(io, 'run_command', { command: `rm -f -- ${deleted.map(shellQuote).join(' ')}` });
  return { written, deleted };
}
