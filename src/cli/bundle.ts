// Builds the command line's bundle (bin/gauntlet.js runs it when it matches the sources): the
// whole CLI in one module, with function names kept as the TypeScript loader keeps them. A bundle
// that cannot be built leaves a marker beside where it would be, so later commands go straight to
// the sources instead of trying again.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../runner/threads/bundle.ts';

const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));
const PREFIX = 'cli-';

/** Builds the bundle at `file` (`<dir>/cli-<stamp>.mjs`, named by bin/cli-bundle.js); false where it cannot be built or kept. */
export async function buildCliBundle(file: string): Promise<boolean> {
  const name = basename(file, '.mjs');
  if (!name.startsWith(PREFIX)) return false;
  const dir = dirname(file);
  try {
    // A cache nobody may write to (a shared install): not worth a build each command.
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch {
    return false;
  }
  try {
    await buildBundle({ entry: ENTRY, dir, prefix: PREFIX, name: name.slice(PREFIX.length), keepNames: true });
    return true;
  } catch (error) {
    try {
      writeFileSync(`${file}.failed`, `${error instanceof Error ? error.message : String(error)}\n`);
    } catch {
      // Nothing to remember it by: the next command tries again.
    }
    return false;
  }
}
