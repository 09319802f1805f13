#!/usr/bin/env node
// Runs the command line from a bundle of the TypeScript sources, built on first use after any
// edit (bin/cli-bundle.js, src/cli/bundle.ts); where none can be built or loaded, from the sources
// through tsx. Either way a fresh checkout needs no build step. GAUNTLET_CLI_SOURCES=1 always runs
// the sources.
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliBundleFile } from './cli-bundle.js';

// `gauntlet show … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** The bundle's `main`, or null where it cannot be loaded (then marked, so later commands do not try again). */
async function fromBundle(file) {
  // Stack traces name the sources, not the bundle.
  process.setSourceMapsEnabled(true);
  try {
    return (await import(pathToFileURL(file).href)).main;
  } catch (error) {
    process.setSourceMapsEnabled(false);
    try {
      writeFileSync(`${file}.failed`, `${error instanceof Error ? error.stack : String(error)}\n`);
    } catch {
      // Nothing to remember it by: the next command tries again.
    }
    return null;
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = process.env.GAUNTLET_CLI_SOURCES === '1' ? null : cliBundleFile(root);
const usable = bundle !== null && !existsSync(`${bundle}.failed`);
let main = usable && existsSync(bundle) ? await fromBundle(bundle) : null;
if (!main) {
  const { register } = await import('tsx/esm/api');
  register();
  if (usable && !existsSync(bundle) && (await (await import('../src/cli/bundle.ts')).buildCliBundle(bundle))) main = await fromBundle(bundle);
  main ??= (await import('../src/cli/main.ts')).main;
}
process.exitCode = await main(process.argv);
