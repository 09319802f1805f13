// Module hooks that load the project's own TypeScript (see register.mjs). Each file is compiled
// by esbuild once and kept under node_modules/.cache by the digest of its path and text, so a
// process that loads hundreds of sources reads them back instead of compiling them; anything
// else (packages, JavaScript, other extensions) goes to Node's loader untouched.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, ROOT } from './cache.mjs';

// The compiler options esbuild honours (class fields, imports kept as written) come from the
// project's tsconfig, as the type checker sees them. Names are kept, as tsx keeps them.
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node.split('.')[0]}`,
  sourcemap: 'inline',
  keepNames: true,
  tsconfigRaw: { compilerOptions: JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions },
};
// The compiler itself is loaded only when a file is not in the cache yet; its version and the
// options are part of each file's key, so a change to either compiles everything again.
const ESBUILD_VERSION = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
const KEY_PREFIX = `${ESBUILD_VERSION}\0${JSON.stringify(OPTIONS)}\0`;
let esbuild;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(url) || url.includes('/node_modules/')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const text = readFileSync(path, 'utf8');
  const key = createHash('sha256').update(`${KEY_PREFIX}${path}\0`).update(text).digest('hex').slice(0, 32);
  const cached = join(CACHE, `${key}.js`);
  let source;
  try {
    source = readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= await import('esbuild');
    source = (await esbuild.transform(text, { ...OPTIONS, sourcefile: path })).code;
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
