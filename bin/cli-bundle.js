// Where the command line's bundle of the sources as they stand is kept. Its name digests every
// source file's path, size and modification time, so an edit anywhere names a new bundle and a
// stale one is never run; listing the sources costs ~10 ms, loading them through the TypeScript
// loader ~1 s more than loading the bundle.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The cache folder, under node_modules so the bundle's package imports resolve as the sources' do. */
export const CLI_BUNDLE_DIR = join('node_modules', '.cache', 'gauntlet-cli');
export const CLI_BUNDLE_PREFIX = 'cli-';

/** The digest of the sources under `root`/src that a bundle could contain (tests never are). */
export function sourceStamp(root) {
  const src = join(root, 'src');
  const lines = [];
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|js|mjs|json)$/.test(entry.name) || entry.name.endsWith('.test.ts')) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const stat = statSync(path);
    lines.push(`${relative(src, path)}\t${stat.size}\t${stat.mtimeMs}`);
  }
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex').slice(0, 16);
}

/** The bundle's file for the sources under `root` as they stand (it may not be built yet). */
export function cliBundleFile(root) {
  return join(root, CLI_BUNDLE_DIR, `${CLI_BUNDLE_PREFIX}${sourceStamp(root)}.mjs`);
}
