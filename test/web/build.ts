// Builds the web app for the browser tests, the screenshots and the benchmark: into a folder of
// its own each time, so parallel test files never serve a half-written bundle.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** Runs the production build (`web/vite.config.ts`) into `outDir` (a new temporary folder by default) and returns it. */
export async function buildWeb(options: { outDir?: string } = {}): Promise<string> {
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), 'gauntlet-web-'));
  await build({ root: WEB_ROOT, configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}
