// The host's process table, for tests that check nothing was left running.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Living processes whose argument vector passes `test`. */
export function processesWhere(test: (argv: string[]) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (test(readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0'))) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Living processes with `needle` as one whole argument. */
export function processesWithArgument(needle: string): number[] {
  return processesWhere((argv) => argv.includes(needle));
}
