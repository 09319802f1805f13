// Where task material comes from (project folders, hidden suites, golden file contents, npm
// packages in node_modules).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const PROJECTS_DIR = join(here, 'projects');
export const HIDDEN_DIR = join(here, 'hidden');
export const SOLUTIONS_DIR = join(here, 'solutions');

/** Every file under `dir`, keyed by its path relative to `dir` (posix separators), sorted. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const full = join(abs, name);
      const path = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, path);
      else out[path] = readFileSync(full, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

/** A project folder under projects/ (the repo the agent starts from). */
export function projectFiles(name: string): Record<string, string> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`coding: project name ${JSON.stringify(name)} must be lowercase letters, digits and -`);
  return readTree(join(PROJECTS_DIR, name));
}

/** A golden file's content, stored under solutions/<task slug>/. */
export function solutionFile(slug: string, path: string): string {
  return readFileSync(join(SOLUTIONS_DIR, slug, path), 'utf8');
}

/** `<folder>/<file>.test.mjs` under hidden/: the only shape a hidden suite reference may take. */
export const HIDDEN_REF = /^[a-z0-9-]+\/[a-z0-9.-]+\.test\.mjs$/;

export interface PackageSource {
  name: string;
  version: string;
  license: string;
  /** Files copied verbatim from the installed package (license and readme included). */
  files: Record<string, string>;
}

const require = createRequire(import.meta.url);

/**
 * The published sources of an installed npm package: its package.json plus the listed files
 * (paths inside the package), resolved through node_modules exactly as `require` would.
 */
export function packageSource(name: string, paths: readonly string[]): PackageSource {
  let dir = dirname(require.resolve(name));
  // The entry point may sit in a subfolder (lib/, dist/): walk up to the package's own manifest.
  while (!isManifestOf(join(dir, 'package.json'), name)) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`coding: cannot find package.json of ${name}`);
    dir = parent;
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
  const files: Record<string, string> = { 'package.json': readFileSync(join(dir, 'package.json'), 'utf8') };
  for (const path of paths) files[path] = readFileSync(join(dir, path), 'utf8');
  return { name, version: manifest.version, license: manifest.license ?? 'unknown', files };
}

function isManifestOf(path: string, name: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name === name;
  } catch {
    return false;
  }
}

/** Replaces the one occurrence of `find`; fails loudly if the installed version no longer has it. */
export function replaceOnce(text: string, [find, replacement]: readonly [string, string], where: string): string {
  const first = text.indexOf(find);
  if (first === -1 || text.indexOf(find, first + 1) !== -1) {
    throw new Error(`coding: ${where}: expected exactly one occurrence of ${JSON.stringify(find.slice(0, 60))}`);
  }
  return text.slice(0, first) + replacement + text.slice(first + find.length);
}
