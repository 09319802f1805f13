// Container paths the sandbox cannot have where the image has them (/tests, /logs, /solution, and
// image folders outside the WORKDIR) mapped into the sandbox's work dir, its one writable folder.
// The WORKDIR itself is not mapped: the sandbox mounts the work dir there.
import { posix } from 'node:path';

/** Hidden directory (relative to the work dir) where tests, reward files and the runner go at grading. */
export const HIDDEN_DIR = '.harbor';

export type PathMapping = ReadonlyArray<readonly [from: string, to: string]>;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites every absolute path that starts with one of the mapping's prefixes, in one pass (so a
 * replacement is never mapped again). A prefix matches only as a whole path component: `/app`
 * maps `/app`, `/app/x` and `${DIR:-/app}`, never `/apple`, `/usr/app` or `./app`.
 */
export function mapPaths(text: string, mapping: PathMapping): string {
  const pairs = mapping.filter(([from, to]) => from !== to && from !== '/');
  if (pairs.length === 0) return text;
  const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length);
  const table = new Map(sorted);
  const pattern = new RegExp(`(?<![A-Za-z0-9_.~/$])(${sorted.map(([from]) => escapeRegExp(from)).join('|')})(?=$|[^A-Za-z0-9_.-])`, 'gm');
  return text.replace(pattern, (match) => table.get(match) ?? match);
}

/** Where image files outside the WORKDIR are placed, relative to the work dir (one writable folder). */
export const IMAGE_ROOT = '.image-root';

/**
 * The mapping used at grading: the container's WORKDIR, /tests, /logs and the image's other
 * placed paths (`imagePaths`: container path → path relative to the work dir) into the sandbox.
 */
export function gradingMapping(options: { containerWorkdir: string; testsDir: string; workdir: string; imagePaths?: Record<string, string> }): PathMapping {
  const { containerWorkdir, testsDir, workdir, imagePaths = {} } = options;
  return [
    [containerWorkdir, workdir],
    [testsDir, posix.join(workdir, HIDDEN_DIR, 'tests')],
    ['/logs', posix.join(workdir, HIDDEN_DIR, 'logs')],
    ...Object.entries(imagePaths).map(([from, rel]) => [from, posix.join(workdir, rel)] as const),
  ];
}

/** Folders too general to map as a whole: files copied into them are mapped one by one. */
const SYSTEM_DIRS = new Set(['/', '/bin', '/etc', '/home', '/lib', '/opt', '/root', '/sbin', '/srv', '/tmp', '/usr', '/usr/bin', '/usr/lib', '/usr/local', '/usr/local/bin', '/usr/local/lib', '/usr/share', '/var']);

/**
 * For image files outside the WORKDIR: the container paths to map (a copied folder as a whole
 * unless it is a system folder, else each file) → their place under IMAGE_ROOT.
 */
export function imagePlacement(files: string[], directories: Iterable<string>): Record<string, string> {
  const folders = [...directories].filter((d) => !SYSTEM_DIRS.has(d)).sort((a, b) => a.length - b.length);
  const out: Record<string, string> = {};
  for (const file of files) {
    const prefix = folders.find((d) => file.startsWith(`${d}/`)) ?? file;
    out[prefix] = `${IMAGE_ROOT}${prefix}`;
  }
  return out;
}

/** `path` (absolute, in the container) relative to `dir`, or null when it lies outside. */
export function relativeInside(path: string, dir: string): string | null {
  const normal = posix.normalize(path);
  if (dir === '/') return normal.slice(1) || null;
  if (normal === dir) return null;
  return normal.startsWith(`${dir}/`) ? normal.slice(dir.length + 1) : null;
}
