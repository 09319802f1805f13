// Rollout threads (and the command line, src/cli/bundle.ts) load one bundled module instead of
// the TypeScript sources. A thread that loads the sources through the TypeScript loader spends
// ~2 s of CPU and ~160 MiB transpiling and evaluating hundreds of modules (plus a loader thread of
// its own); the bundle, built once per source version with esbuild, starts in a fraction of that.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
      // A pattern, not the words themselves: this file is bundled too (into the command line's
      // bundle), and a literal here would be rewritten into this file's own address.
      return { contents: text.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

/**
 * Bundles `entry` and its sources into one ES module, `dir/<prefix><name>.mjs` with its map,
 * `name` given or else the hash of the code. Written under temporary names and renamed: another
 * process may be writing the same bundle. Packages stay imports, resolved where the sources'
 * would be.
 */
export async function buildBundle(options: { entry: string; dir: string; prefix: string; name?: string; keepNames?: boolean }): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [options.entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outdir: options.dir,
    sourcemap: 'linked',
    logLevel: 'silent',
    keepNames: options.keepNames ?? false,
    plugins: [sourceAddresses],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!code || !map) throw new Error('esbuild produced no module');
  const name = `${options.prefix}${options.name ?? createHash('sha256').update(code.contents).digest('hex').slice(0, 16)}`;
  const file = join(options.dir, `${name}.mjs`);
  if (existsSync(file)) {
    // Its time says when it was last used, for pruneBundles.
    const now = new Date();
    utimesSync(file, now, now);
  } else {
    mkdirSync(options.dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(`${join(options.dir, name)}.mjs.map`, map.text.replace(/"file":\s*"[^"]*"/, `"file":"${name}.mjs"`));
    writeFileSync(temporary, code.text.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.mjs.map\n`));
    renameSync(temporary, file);
  }
  pruneBundles(options.dir, file, Date.now(), options.prefix);
  return file;
}

async function buildThreadModule(): Promise<URL> {
  return pathToFileURL(await buildBundle({ entry: THREAD_SOURCE, dir: CACHE_DIR, prefix: 'thread-' }));
}

/** Bundles kept whatever their age (besides the one in use), and the age beyond which others go. */
const KEEP_NEWEST = 3;
const KEEP_USED_WITHIN_MS = 24 * 60 * 60 * 1000;

/**
 * Removes bundles of older source versions: each is ~3 MB and every edit of the sources makes a
 * new one. A bundle goes only when it is neither among the few most recently used nor used in the
 * last day, so a process that started threads from it a moment ago still finds it. Best effort.
 */
export function pruneBundles(dir: string, current: string, now = Date.now(), prefix = 'thread-'): void {
  const bundleFile = new RegExp(`^${prefix}[0-9a-f]{16}\\.mjs(\\.map|\\.failed|\\.\\d+\\.tmp)?$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const used = (name: string): number => {
    try {
      return statSync(join(dir, name)).mtimeMs;
    } catch {
      return now;
    }
  };
  const others = names
    .filter((name) => bundleFile.test(name) && !name.endsWith('.map') && join(dir, name) !== current)
    .map((name) => ({ name, used: used(name) }))
    .sort((a, b) => b.used - a.used);
  for (const [rank, { name, used: at }] of others.entries()) {
    if (rank < KEEP_NEWEST || now - at < KEEP_USED_WITHIN_MS) continue;
    rmSync(join(dir, name), { force: true });
    if (name.endsWith('.mjs')) rmSync(join(dir, `${name}.map`), { force: true });
  }
}

let built: Promise<URL | null> | undefined;

/** The bundled thread module, built on first use; null where it cannot be built (then threads load the sources). */
export function threadModule(): Promise<URL | null> {
  built ??= buildThreadModule().catch(() => null);
  return built;
}
