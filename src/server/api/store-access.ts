// Whether the API may write the store. Served read-only, every request that would write (labels,
// queues and their reservations, authored tasks) is refused before its route runs, so nothing is
// half-written and a reviewer is told at once instead of losing work later.
import type { Context, Hono, Next } from 'hono';
import type { ApiContext } from './context.ts';
import type { ErrorBody } from './http.ts';

/** Requests that change nothing despite their method: checking a task replays it in a sandbox, not in the store. */
const READS_BY_POST = new Set(['/api/tasks/validate']);

/** What `GET /api/store` answers: the web app disables its review actions on `readOnly`. */
export interface StoreAccess {
  readOnly: boolean;
  /** Why the store is read-only; null when it is writable. */
  reason: string | null;
}

export function storeAccessRoutes(app: Hono, ctx: Pick<ApiContext, 'readOnly'>): void {
  const { readOnly } = ctx;
  app.get('/api/store', (c) => c.json<StoreAccess>({ readOnly: readOnly !== undefined, reason: readOnly?.reason ?? null }));
  if (readOnly === undefined) return;
  // Refused by method rather than by a list of write routes, so a write route added later is refused too.
  app.use('/api/*', async (c: Context, next: Next) => {
    const { method, path } = c.req;
    if (method === 'GET' || method === 'HEAD' || (method === 'POST' && READS_BY_POST.has(path))) return next();
    return c.json<ErrorBody>(
      {
        error: {
          message: `the store is served read-only (${readOnly.reason}): ${method} ${path} would write to it, so nothing was saved; reading runs, trajectories, labels and queues still works`,
          field: null,
          expected: 'a writable store to label or review: `gauntlet serve` without --read-only, on a store file and directory it may write',
        },
      },
      403,
    );
  });
}
