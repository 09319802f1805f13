// Where the test loader keeps compiled sources, and how the folder is kept from growing without
// end: every edit of a file adds a compiled copy, so copies made more than a week ago are removed
// before a test run (one still current is compiled again on its next load, in milliseconds).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CACHE = join(ROOT, 'node_modules', '.cache', 'gauntlet-ts');

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** Removes what `dir` (the cache) holds that was written more than a week before `now`. */
export function pruneCompiled(dir = CACHE, now = Date.now()) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (now - statSync(file).mtimeMs > WEEK_MS) rmSync(file, { force: true });
    } catch {
      // Removed by another run meanwhile.
    }
  }
}
