#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so a fresh checkout needs no build step.
import { register } from 'tsx/esm/api';

// `gauntlet show … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
