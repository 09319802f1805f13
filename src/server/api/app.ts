// The review API and the web app behind one Hono app. Beyond loopback every /api request needs
// the bearer token; on loopback, requests from other sites' pages are refused (a page elsewhere
// could otherwise post labels through the reviewer's browser, or read through a rebound DNS name).
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { hasBearerToken, isLoopbackHost } from '../../core/index.ts';
import type { ApiContext } from './context.ts';
import { fileRoutes } from './files.ts';
import { errorResponse, type ErrorBody } from './http.ts';
import { reviewRoutes } from './review.ts';
import { runRoutes } from './runs.ts';
import { staticRoutes } from './static.ts';

export interface ApiAppOptions extends ApiContext {
  /** Required on every /api request when set (servers bound beyond loopback). */
  token: string | undefined;
  /** The built web app; `/` explains how to build it when absent. */
  webRoot: string;
  maxBodyBytes?: number;
}

const refuse = (c: Context, status: 401 | 403, message: string) =>
  c.json<ErrorBody>({ error: { message, field: null } }, status, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});

/** Same-origin requests carry no Origin or their own; a browser on another site sends its own. */
function foreignOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== new URL(c.req.url).host;
  } catch (_error) {
    return true;
  }
}

export function createApiApp(options: ApiAppOptions): Hono {
  const app = new Hono();
  const { token } = options;
  app.use('/api/*', async (c, next) => {
    if (token !== undefined) {
      if (!hasBearerToken(c.req.header('authorization'), token)) return refuse(c, 401, 'missing or wrong bearer token (send Authorization: Bearer <token>)');
    } else {
      // The URL's host is the Host header the request was addressed with.
      const host = new URL(c.req.url).hostname;
      if (!isLoopbackHost(host)) return refuse(c, 403, `host "${host}" is not loopback: this server only answers requests addressed to it on loopback`);
    }
    if (foreignOrigin(c)) return refuse(c, 403, `requests from pages of other origins (${c.req.header('origin')}) are refused`);
    await next();
  });
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  app.use('/api/*', bodyLimit({ maxSize: maxBodyBytes, onError: (c) => c.json<ErrorBody>({ error: { message: `request body over ${maxBodyBytes} bytes`, field: 'body' } }, 413) }));
  app.onError((error, c) => errorResponse(c, error, options.log));

  runRoutes(app, options);
  reviewRoutes(app, options);
  fileRoutes(app, options);
  staticRoutes(app, { webRoot: options.webRoot });
  app.notFound((c) => c.json<ErrorBody>({ error: { message: `no route ${c.req.method} ${c.req.path}`, field: null } }, 404));
  return app;
}
