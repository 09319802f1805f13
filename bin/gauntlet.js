#!/usr/bin/env node
// Runs the command line from a bundle of the TypeScript sources, built on first use after any
// edit (bin/cli-bundle.js, src/cli/bundle.ts); where none can be built, from the sources through
// tsx. Either way a fresh checkout needs no build step. GAUNTLET_CLI_SOURCES=1 always runs the sources.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliBundleFile } from './cli-bundle.js';

// `gauntlet show … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = process.env.GAUNTLET_CLI_SOURCES === '1' ? null : cliBundleFile(root);
let main;
if (bundle && existsSync(bundle)) {
  // Stack traces name the sources, not the bundle.
  process.setSourceMapsEnabled(true);
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  if (bundle && !existsSync(`${bundle}.failed`) && (await (await import('../src/cli/bundle.ts')).buildCliBundle(bundle))) {
    process.setSourceMapsEnabled(true);
    ({ main } = await import(pathToFileURL(bundle).href));
  } else ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
