// The trainer-facing HTTP API on Hono. Bodies are checked with the zod schemas in schemas.ts; a
// bad body is a 400 naming the field. A batch's stream is NDJSON written from a ReadableStream the
// scheduler enqueues into synchronously, so the staleness check and the handout are one step.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { errorMessage } from '../../core/index.ts';
import { hasBearerToken } from '../../core/index.ts';
import { BatchRequest, PolicyAnnouncement } from './schemas.ts';
import type { BatchSink } from './scheduler.ts';
import type { MetricsScrape } from '../../runner/index.ts';
import type { Rejection, RolloutServiceCore } from './service.ts';

const MAX_BODY_BYTES = 1024 * 1024;

function reject(c: Context, rejection: Rejection) {
  return c.json({ error: { field: rejection.field, message: rejection.message } }, rejection.status);
}

/** The JSON body parsed by `schema`, or the 400 that names the first bad field. */
async function body<T>(c: Context, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch (error) {
    return { ok: false, response: reject(c, { status: 400, field: 'body', message: `not valid JSON: ${errorMessage(error)}` }) };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem${parsed.error.issues.length > 2 ? 's' : ''})` : '';
  return { ok: false, response: reject(c, { status: 400, field, message: `${field}: ${issue.message}${more}` }) };
}

export function createServiceApp(service: RolloutServiceCore, options: { token: string | undefined; metrics?: () => Promise<MetricsScrape> }): Hono {
  const app = new Hono();
  const token = options.token;
  if (token !== undefined) {
    app.use('*', async (c, next) => {
      if (!hasBearerToken(c.req.header('authorization'), token)) {
        return c.json({ error: { field: 'authorization', message: 'missing or wrong bearer token (send Authorization: Bearer <token>)' } }, 401, { 'WWW-Authenticate': 'Bearer' });
      }
      await next();
    });
  }
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => reject(c, { status: 413, field: 'body', message: `request body over ${MAX_BODY_BYTES} bytes` }) }));

  app.get('/health', (c) => c.json({ status: 'ok', runId: service.runId }));
  app.get('/v1/stats', (c) => c.json(service.stats()));
  app.get('/v1/policy', (c) => c.json(service.policy()));
  const { metrics } = options;
  if (metrics) {
    app.get('/metrics', async (c) => {
      const scrape = await metrics();
      return c.body(scrape.body, 200, { 'content-type': scrape.contentType });
    });
  }

  app.post('/v1/policy', async (c) => {
    const parsed = await body(c, PolicyAnnouncement);
    if (!parsed.ok) return parsed.response;
    const outcome = await service.announce(parsed.value);
    return outcome.ok ? c.json(outcome.value) : reject(c, outcome);
  });

  app.post('/v1/batches', async (c) => {
    const parsed = await body(c, BatchRequest);
    if (!parsed.ok) return parsed.response;
    const outcome = service.openBatch(parsed.value);
    return outcome.ok ? c.json(outcome.value, 201) : reject(c, outcome);
  });

  app.get('/v1/batches/:id', (c) => {
    const outcome = service.batchStatus(c.req.param('id'));
    return outcome.ok ? c.json(outcome.value) : reject(c, outcome);
  });

  app.get('/v1/batches/:id/stream', (c) => {
    const id = c.req.param('id');
    const encoder = new TextEncoder();
    let sink: BatchSink | undefined;
    // `start` runs inside the constructor, so the sink exists before the scheduler sees it.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let open = true;
        sink = {
          write(line) {
            if (!open) return false;
            try {
              controller.enqueue(encoder.encode(line));
              return true;
            } catch (_error) {
              open = false;
              return false;
            }
          },
          end() {
            if (!open) return;
            open = false;
            controller.close();
          },
        };
      },
      cancel() {
        if (sink) service.detach(id, sink);
      },
    });
    const attached = service.attach(id, sink as BatchSink);
    if (!attached.ok) {
      void stream.cancel();
      return reject(c, attached);
    }
    return c.body(stream, 200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache' });
  });

  app.notFound((c) => reject(c, { status: 404, field: null, message: `no route ${c.req.method} ${c.req.path}; the rollout service serves GET /health,${metrics ? ' GET /metrics,' : ''} GET /v1/stats, GET|POST /v1/policy, POST /v1/batches, GET /v1/batches/:id and GET /v1/batches/:id/stream` }));
  return app;
}
