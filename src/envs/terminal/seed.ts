// The episode's world: the task's files placed in the sandbox, seeded background files beside
// them, and a snapshot of every file (hash, plus the text of small ones).
import { z } from 'zod';
import { describeZodIssues, type JsonObject, type Rng } from '../../core/index.ts';
import type { EpisodeContext } from '../define.ts';
import { parseTaskPart } from '../parsed.ts';

export const TERMINAL_SCHEMA = `
CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  tool TEXT NOT NULL,
  target TEXT NOT NULL,
  exit_code INTEGER,
  timed_out INTEGER NOT NULL DEFAULT 0,
  truncated INTEGER NOT NULL DEFAULT 0,
  at TEXT NOT NULL
);`;

/** What a terminal task puts in `initialState` (besides the generic world options). */
export const TerminalState = z
  .object({
    /** Files to place, path relative to /work → content. */
    files: z.record(z.string().min(1), z.string()).default({}),
    /** Seeded background files (different per seed) in a directory the task leaves alone. */
    noise: z.object({ dir: z.string().min(1), count: z.number().int().min(1).max(50) }).optional(),
  })
  .loose();
export type TerminalState = z.infer<typeof TerminalState>;

/** Files smaller than this appear with their text in snapshots. */
const SNAPSHOT_TEXT_LIMIT = 4096;

const WORDS = ['alpha', 'backup', 'cache', 'draft', 'export', 'legacy', 'mirror', 'old', 'scratch', 'spare', 'temp', 'archive'];
const EXTENSIONS = ['txt', 'log', 'md', 'csv', 'conf'];

/** A few plausible files whose names and contents depend on the episode seed. */
export function noiseFiles(rng: Rng, dir: string, count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = `${rng.pick(WORDS)}-${rng.int(100, 999)}.${rng.pick(EXTENSIONS)}`;
    const lines = Array.from({ length: rng.int(2, 8) }, () => `${rng.pick(WORDS)} ${rng.int(0, 10_000)} ${rng.pick(WORDS)}`);
    files[`${dir}/${name}`] = `${lines.join('\n')}\n`;
  }
  return files;
}

export async function seedTerminal(ctx: EpisodeContext): Promise<void> {
  const parsed = parseTaskPart(TerminalState, ctx.task.initialState);
  if (!parsed.success) throw new Error(`initialState\n${describeZodIssues(parsed.error.issues, 'initialState')}`);
  if (!ctx.sandbox) throw new Error('terminal needs a sandbox');
  const { files, noise } = parsed.data;
  const all = { ...(noise ? noiseFiles(ctx.rng.fork('noise'), noise.dir, noise.count) : {}), ...files };
  for (const path of Object.keys(all).sort()) await ctx.sandbox.writeFile(path, all[path] as string);
}

/** What terminalSnapshot adds to the state: one row per file (content only for small text files). */
export const TERMINAL_SNAPSHOT_TABLES = { files: ['path', 'size', 'sha256', 'content'] } as const;

export async function terminalSnapshot(ctx: EpisodeContext): Promise<JsonObject> {
  if (!ctx.sandbox) return { files: [] };
  const entries = await ctx.sandbox.listFiles();
  const files = await Promise.all(
    entries.map(async (entry) => {
      if (entry.size > SNAPSHOT_TEXT_LIMIT) return { ...entry };
      const content = await ctx.sandbox?.readFile(entry.path).catch(() => null);
      return content === null || content === undefined ? { ...entry } : { ...entry, content };
    }),
  );
  return { files };
}
