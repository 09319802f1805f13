// The review API and the web app behind one Hono app. Beyond loopback every /api request needs
// the bearer token; on loopback, requests from other sites' pages are refused (a page elsewhere
// could otherwise post labels through the reviewer's browser, or read through a rebound DNS name).
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { browserRefusal, hasBearerToken } from '../../core/index.ts';
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
}

const refuse = (c: Context, status: 401 | 403, message: string) =>
  c.json<ErrorBody>({ error: { message, field: null } }, status, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});

export function createApiApp(options: ApiAppOptions): Hono {
  const app = new Hono();
  const { token } = options;
  app.use('/api/*', async (c, next) => {
    if (token !== undefined && !hasBearerToken(c.req.header('authorization'), token)) return refuse(c, 401, 'missing or wrong bearer token (send Authorization: Bearer <token>)');
    // The URL's host is the Host header the request was addressed with.
    const refusal = browserRefusal({ host: new URL(c.req.url).host, origin: c.req.header('origin'), tokenRequired: token !== undefined });
    if (refusal !== null) return refuse(c, 403, refusal);
    await next();
  });
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  app.use('/api/*', bodyLimit({ maxSize: maxBodyBytes, onError: (c) => c.json<ErrorBody>({ error: { message: `request body over ${maxBodyBytes} bytes`, field: 'body' } }, 413) }));
  app.onError((error, c) => errorResponse(c, error, options.log));

  storeAccessRoutes(app, options);
  runRoutes(app, options);
  reviewRoutes(app, options);
  fileRoutes(app, options);
  staticRoutes(app, { webRoot: options.webRoot });
  app.notFound((c) => c.json<ErrorBody>({ error: { message: `no route ${c.req.method} ${c.req.path}`, field: null } }, 404));
  return app;
}
