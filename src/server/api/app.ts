// The review API and the web app behind one Hono app. Beyond loopback every /api request needs
// the bearer token; on loopback, requests from other sites' pages are refused (a page elsewhere
// could otherwise post labels through the reviewer's browser, or read through a rebound DNS name).
import { Hono, type Context } from 'hono';
import { browserRefusal, hasBearerToken } from '../../core/index.ts';
import { BodyBudget, bufferBody, type Buffered, type RefusalReply } from '../body-budget.ts';
import type { ApiContext } from './context.ts';
import { fileRoutes } from './files.ts';
import { errorResponse, type ErrorBody } from './http.ts';
import { reviewRoutes } from './review.ts';
import { runRoutes } from './runs.ts';
import { staticRoutes } from './static.ts';
import { storeAccessRoutes } from './store-access.ts';

export interface ApiAppOptions extends ApiContext {
  /** Required on every /api request when set (servers bound beyond loopback). */
  token: string | undefined;
  /** The built web app; `/` explains how to build it when absent. */
  webRoot: string;
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once across every request (default 64 MiB: eight of the largest). */
  maxBodyMemoryBytes?: number;
  /** A request body must arrive whole this long after its reading began (default 30 s). */
  bodyTimeoutMs?: number;
}

/** A body refused by the shared budget, in the API's error shape. */
const bodyRefusal: RefusalReply = (c, refusal, status, headers) => c.json<ErrorBody>({ error: { message: refusal.message, field: 'body' } }, status, headers);

/**
 * On every response. The viewer shows text a model or an environment wrote; should any of it ever
 * be read as markup, the policy still runs no script but the app's own, sends nothing to another
 * host, and no other site can frame the page to steer a reviewer's clicks. It allows only what the
 * app uses: its own scripts, styles and API (and the browser's favicon request); the app draws no
 * data: images, loads no fonts and submits no form natively (every form is handled in script).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  // The page's address may still hold `?token=` on first load.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const refuse = (c: Context, status: 401 | 403, message: string) =>
  c.json<ErrorBody>({ error: { message, field: null } }, status, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});

export function createApiApp(options: ApiAppOptions): Hono {
  const app = new Hono();
  const { token } = options;
  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
  app.use('/api/*', async (c, next) => {
    if (token !== undefined && !hasBearerToken(c.req.header('authorization'), token)) return refuse(c, 401, 'missing or wrong bearer token (send Authorization: Bearer <token>)');
    // The URL's host is the Host header the request was addressed with.
    const refusal = browserRefusal({ host: new URL(c.req.url).host, origin: c.req.header('origin'), tokenRequired: token !== undefined });
    if (refusal !== null) return refuse(c, 403, refusal);
    await next();
    // Answers hold trajectories and labels: none is kept in the browser's disk cache, where the
    // next user of the machine (or of the profile) could read it without the token.
    c.res.headers.set('Cache-Control', 'no-store');
  });
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  // Every body is read whole within one budget shared by all requests, so 256 connections cannot
  // hold 8 MiB each; and within a deadline, so a slow sender cannot hold its share for minutes.
  const budget = new BodyBudget(options.maxBodyMemoryBytes ?? 64 * 1024 * 1024);
  app.use('/api/*', bufferBody<Buffered>({ maxBytes: maxBodyBytes, budget, timeoutMs: options.bodyTimeoutMs ?? 30_000 }, bodyRefusal));
  app.onError((error, c) => errorResponse(c, error, options.log));

  storeAccessRoutes(app, options);
  runRoutes(app, options);
  reviewRoutes(app, options);
  fileRoutes(app, options);
  staticRoutes(app, { webRoot: options.webRoot });
  app.notFound((c) => c.json<ErrorBody>({ error: { message: `no route ${c.req.method} ${c.req.path}`, field: null } }, 404));
  return app;
}
