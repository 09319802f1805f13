// Rollout threads load one bundled module instead of the TypeScript sources. A thread that loads
// the sources through the TypeScript loader spends ~2 s of CPU and ~160 MiB transpiling and
// evaluating hundreds of modules (plus a loader thread of its own); the bundle, built once per
// source version with esbuild, starts in a fraction of that.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

const THREAD_SOURCE = fileURLToPath(new URL('./thread.ts', import.meta.url));
/** Under the project's node_modules, so the bundle's package imports resolve as the sources' do. */
const CACHE_DIR = fileURLToPath(new URL('../../../node_modules/.cache/gauntlet-threads/', import.meta.url));

/**
 * Modules find their files through `import.meta.url`; in a bundle that would be the bundle's own
 * address, so each module's is written in as the literal address of its source file.
 */
const sourceAddresses: Plugin = {
  name: 'source-addresses',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

async function buildThreadModule(): Promise<URL> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [THREAD_SOURCE],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outdir: CACHE_DIR,
    sourcemap: 'linked',
    logLevel: 'silent',
    plugins: [sourceAddresses],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!code || !map) throw new Error('esbuild produced no module');
  const name = `thread-${createHash('sha256').update(code.contents).digest('hex').slice(0, 16)}`;
  const file = join(CACHE_DIR, `${name}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written under temporary names and renamed: another process may be writing the same bundle.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(`${join(CACHE_DIR, name)}.mjs.map`, map.text.replace(/"file":\s*"[^"]*"/, `"file":"${name}.mjs"`));
    writeFileSync(temporary, code.text.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.mjs.map\n`));
    renameSync(temporary, file);
  }
  return pathToFileURL(file);
}

let built: Promise<URL | null> | undefined;

/** The bundled thread module, built on first use; null where it cannot be built (then threads load the sources). */
export function threadModule(): Promise<URL | null> {
  built ??= buildThreadModule().catch(() => null);
  return built;
}
