// Module hooks that load the project's own TypeScript (see register.mjs). Each file is compiled
// by esbuild once and kept under node_modules/.cache by the digest of its path and text, so a
// process that loads hundreds of sources reads them back instead of compiling them; anything
// else (packages, JavaScript, other extensions) goes to Node's loader untouched.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'gauntlet-ts');
// The compiler options esbuild honours (class fields, imports kept as written) come from the
// project's tsconfig, as the type checker sees them.
const { compilerOptions } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
// The compiler itself is loaded only when a file is not in the cache yet.
const ESBUILD_VERSION = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
let esbuild;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(url) || url.includes('/node_modules/')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const text = readFileSync(path, 'utf8');
  const key = createHash('sha256').update(`${ESBUILD_VERSION}\0${path}\0`).update(text).digest('hex').slice(0, 32);
  const cached = join(CACHE, `${key}.js`);
  let source;
  try {
    source = readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= await import('esbuild');
    source = (await esbuild.transform(text, {
      loader: 'ts',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      sourcefile: path,
      keepNames: true,
      tsconfigRaw: { compilerOptions },
    })).code;
    keep(cached, source);
  }
  return { format: 'module', source, shortCircuit: true };
}

/** Writes the compiled file whole or not at all, so a process reading beside this one never sees half of it. */
function keep(file, source) {
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(partial, source);
    renameSync(partial, file);
  } catch {
    // A cache that cannot be written: compiled again next time.
  }
}
