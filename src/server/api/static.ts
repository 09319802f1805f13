// The built web app (web/dist) served beside the API: files as they are, and any other page path
// sent to the app's own route for it (`/runs/x` to `/#/runs/x`). Without a build, `/` says how to make one.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

/** web/dist at the package root. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

function fileIn(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch (_error) {
    return null;
  }
  const path = resolve(root, `.${decoded}`);
  if (!inside(root, path) || !existsSync(path)) return null;
  // A link in the build may point anywhere on the machine: only what really lies under the root is served.
  let real: string;
  try {
    real = realpathSync(path);
  } catch (_error) {
    return null;
  }
  return inside(realRoot(root), real) && statSync(real).isFile() ? real : null;
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep);

function realRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch (_error) {
    return root;
  }
}

export function staticRoutes(app: Hono, options: { webRoot: string }): void {
  const root = resolve(options.webRoot);
  const built = () => existsSync(resolve(root, 'index.html'));

  app.get('*', (c) => {
    const path = c.req.path;
    if (path === '/api' || path.startsWith('/api/')) return c.json({ error: { message: `no API route ${c.req.method} ${path}`, field: null } }, 404);
    if (!built()) {
      // Served without the token (the page asks for it), so it names no place on the server's disk:
      // `gauntlet serve` printed the web root when it started.
      return c.text('The Gauntlet web app is not built (its web root has no index.html).\nBuild it with `npm run build:web`; the JSON API is served under /api meanwhile.\n', 404);
    }
    const file = fileIn(root, path === '/' ? '/index.html' : path);
    // Paths with an extension are files; a missing one is a 404, not the app shell.
    if (!file && extname(path) !== '') return c.text(`not found: ${path}\n`, 404);
    if (!file) {
      // The app routes in the hash and loads its assets relative to the page, so the shell served
      // at `/runs/x` would ask for /runs/assets/… and show a blank page. The hash keeps the path
      // as it was sent (still percent-encoded) and the query stays where `?token=` is read.
      const url = new URL(c.req.url);
      return c.redirect(`/${url.search}#${url.pathname}`, 302);
    }
    const target = file;
    const hashed = target.includes(`${sep}assets${sep}`);
    return c.body(readFileSync(target), 200, {
      'Content-Type': TYPES[extname(target)] ?? 'application/octet-stream',
      'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  });
}
