// Moving the task's files between the environment's sandbox and the external agent's: out before
// the agent starts, back (changed and deleted files only) after it ends, so the environment's own
// verifier judges the final state in its own sandbox. Only through the environment's public tools
// (`run_command`, `write_file`): bytes travel base64-encoded between markers, so the transfer is
// exact whatever the tool's output format, and it works for every environment with those tools.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { InfraError, type Environment, type JsonValue } from '../../core/index.ts';

/** What the agent's sandbox does not get: installed packages and VCS metadata stay where they are. */
const EXCLUDED = ['node_modules', '.git'];
/** Base64 characters per tool call: below every environment's output cut. */
const PAGE = 8_000;
/** Bytes per write-back command: well below the kernel's 128 KiB limit on one argument. */
const WRITE_CHUNK = 48_000;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** The most the agent may hand back: the bytes of what it changed or added, as the export's bound. */
export const MAX_WRITE_BACK_BYTES = MAX_TOTAL_BYTES;
/** The most files and folders the agent may add; the walk stops counting past it. */
export const MAX_WRITE_BACK_FILES = 20_000;

export const REQUIRED_TOOLS = ['run_command', 'write_file'] as const;

/** Paths relative to the work dir -> sha256 and length of their bytes. */
export type WorkspaceManifest = Map<string, { sha256: string; size: number }>;

/**
 * The agent left more in its work dir than may come back: its own failure, never the environment's,
 * and nothing is written back (a truncated write-back would have the verifier judge a state the agent never left).
 */
export class WorkspaceLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspaceLimitError';
  }
}

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

/** A file the agent left, and whether it must go back (new or changed). */
interface LeftFile {
  path: string;
  changed: boolean;
}

/**
 * Walks what the agent left, without reading more than the bounds allow: new files and folders
 * count against `MAX_WRITE_BACK_FILES` and new or resized files' bytes against
 * `MAX_WRITE_BACK_BYTES` before anything is read, and the walk stops as soon as either is passed.
 */
async function leftFiles(root: string, before: WorkspaceManifest): Promise<LeftFile[]> {
  const knownDirs = new Set<string>();
  for (const path of before.keys()) for (let d = dirname(path); d !== '.'; d = dirname(d)) knownDirs.add(d);
  const out: LeftFile[] = [];
  let added = 0;
  let bytes = 0;
  const addEntry = () => {
    if (++added > MAX_WRITE_BACK_FILES) throw new WorkspaceLimitError(`left more than ${MAX_WRITE_BACK_FILES} new files and folders in its work dir (the limit on what comes back is ${MAX_WRITE_BACK_FILES})`);
  };
  const addBytes = (size: number) => {
    bytes += size;
    if (bytes > MAX_WRITE_BACK_BYTES) throw new WorkspaceLimitError(`left more than ${MAX_WRITE_BACK_BYTES} bytes of new or changed files in its work dir (at least ${bytes} found; the limit on what comes back is ${MAX_WRITE_BACK_BYTES} bytes)`);
  };
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (EXCLUDED.includes(entry.name) && dir === root) continue;
      const full = join(dir, entry.name);
      const path = relative(root, full);
      if (entry.isDirectory()) {
        if (!knownDirs.has(path)) addEntry();
        await walk(full);
        continue;
      }
      const known = before.get(path);
      if (!known || !entry.isFile()) addEntry();
      if (!entry.isFile()) continue;
      const { size } = await lstat(full);
      if (known && known.size === size) {
        // Same length: only the bytes tell, and reading them is bounded by what the export brought.
        if (known.sha256 !== sha256(await readFile(full))) {
          addBytes(size);
          out.push({ path, changed: true });
        } else {
          out.push({ path, changed: false });
        }
      } else {
        addBytes(size);
        out.push({ path, changed: true });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
    manifest.set(path, { sha256: sha256(bytes), size: bytes.length });
  }
  return manifest;
}

export interface WorkspaceChanges {
  written: string[];
  deleted: string[];
}

const isUtf8 = (bytes: Buffer) => Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);

/**
 * Writes what the agent changed in `dir` back into the environment, and deletes what it removed.
 * Throws `WorkspaceLimitError`, having written nothing, when the agent left more than may come back.
 */
export async function importWorkspace(io: WorkspaceIo, dir: string, before: WorkspaceManifest): Promise<WorkspaceChanges> {
  const after = await leftFiles(dir, before);
  const written: string[] = [];
  for (const { path, changed } of after) {
    if (!changed) continue;
    const bytes = await readFile(join(dir, path));
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
  const present = new Set(after.map((file) => file.path));
  const deleted = [...before.keys()].filter((path) => !present.has(path));
  if (deleted.length > 0) await call(io, 'run_command', { command: `rm -f -- ${deleted.map(shellQuote).join(' ')}` });
  return { written, deleted };
}
