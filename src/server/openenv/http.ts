// The HTTP side: health, schema, metadata, OpenEnv's stateless /reset, /step and /state
// (simulation mode only), and JSON-RPC POST /mcp. Stateless means what OpenEnv means: each request
// gets a fresh environment, closed before the reply; real episodes use /ws or MCP sessions.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { browserRefusal, errorMessage, GAUNTLET_VERSION, hasBearerToken, nestsDeeperThan } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { EpisodeFailure, initialState, type OpenEnvEpisode, type TaskCatalog } from './episode.ts';
import { handleJsonRpc, type McpContext } from './mcp.ts';
import { Action, protocolSchemas, RPC, rpcError, StepRequest, TOO_DEEP, validationIssues, type ValidationIssue } from './protocol.ts';

export type ServerMode = 'simulation' | 'production';

export interface HttpContext {
  definition: EnvironmentDefinition;
  catalog: TaskCatalog;
  mode: ServerMode;
  token: string | undefined;
  /** A throwaway episode for one stateless request. */
  createEpisode: () => OpenEnvEpisode;
  mcp: Omit<McpContext, 'bound'>;
  maxBodyBytes: number;
  log?: (line: string) => void;
}

type Body = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

/** The JSON body; empty means `{}` (OpenEnv's /reset body is optional). */
async function jsonBody(c: Context): Promise<Body> {
  const text = await c.req.text();
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [{ type: 'json_invalid', loc: ['body'], msg: `JSON decode error: ${errorMessage(error)}` }] };
  }
  if (nestsDeeperThan(value)) return { ok: false, issues: [{ type: 'json_too_deep', loc: ['body'], msg: TOO_DEEP }] };
  return { ok: true, value };
}

/** FastAPI's validation reply: 422 with a `detail` list. */
const unprocessable = (c: Context, detail: ValidationIssue[]) => c.json({ detail }, 422);

function failure(c: Context, error: unknown) {
  if (error instanceof EpisodeFailure) return c.json({ detail: error.message, failure: error.failure, source: error.source, retryable: error.retryable }, 500);
  throw error;
}

async function withEpisode<T>(ctx: HttpContext, work: (episode: OpenEnvEpisode) => Promise<T>): Promise<T> {
  const episode = ctx.createEpisode();
  try {
    return await work(episode);
  } finally {
    await episode.close();
  }
}

export function createOpenEnvApp(ctx: HttpContext): Hono {
  const app = new Hono();
  const schemas = protocolSchemas();

  const { token } = ctx;
  app.use('*', async (c, next) => {
    if (token !== undefined && !hasBearerToken(c.req.header('authorization'), token)) {
      return c.json({ detail: 'missing or wrong bearer token (send Authorization: Bearer <token>)' }, 401, { 'WWW-Authenticate': 'Bearer' });
    }
    // The URL's host is the Host header the request was addressed with.
    const refusal = browserRefusal({ host: new URL(c.req.url).host, origin: c.req.header('origin'), tokenRequired: token !== undefined });
    if (refusal !== null) return c.json({ detail: refusal }, 403);
    await next();
  });
  app.use('*', bodyLimit({ maxSize: ctx.maxBodyBytes, onError: (c) => c.json({ detail: `request body over ${ctx.maxBodyBytes} bytes` }, 413) }));

  app.get('/health', (c) => c.json({ status: 'healthy' }));
  app.get('/schema', (c) => c.json(schemas));
  app.get('/metadata', (c) =>
    c.json({
      name: ctx.definition.name,
      description: ctx.definition.description,
      readme_content: null,
      version: GAUNTLET_VERSION,
      author: null,
      documentation_url: null,
    }),
  );

  if (ctx.mode === 'simulation') {
    app.post('/reset', async (c) => {
      const body = await jsonBody(c);
      if (!body.ok) return unprocessable(c, body.issues);
      const data = ctx.catalog.resetData.safeParse(body.value);
      if (!data.success) return unprocessable(c, validationIssues(data.error.issues, ['body']));
      try {
        return c.json(await withEpisode(ctx, (episode) => episode.reset(data.data)));
      } catch (error) {
        return failure(c, error);
      }
    });

    app.post('/step', async (c) => {
      const body = await jsonBody(c);
      if (!body.ok) return unprocessable(c, body.issues);
      const request = StepRequest.safeParse(body.value);
      if (!request.success) return unprocessable(c, validationIssues(request.error.issues, ['body']));
      const action = Action.safeParse(request.data.action);
      if (!action.success) return unprocessable(c, validationIssues(action.error.issues, ['body', 'action']));
      const reset = ctx.catalog.resetData.safeParse({ ...(request.data.task_id ? { task_id: request.data.task_id } : {}), ...(request.data.seed !== undefined ? { seed: request.data.seed } : {}) });
      if (!reset.success) return unprocessable(c, validationIssues(reset.error.issues, ['body']));
      const timeoutMs = request.data.timeout_s === undefined ? undefined : request.data.timeout_s * 1000;
      try {
        const result = await withEpisode(ctx, async (episode) => {
          await episode.reset(reset.data);
          return episode.step(action.data, { signal: c.req.raw.signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
        });
        return c.json(result);
      } catch (error) {
        return failure(c, error);
      }
    });

    app.get('/state', (c) => c.json(initialState()));
  }

  app.post('/mcp', async (c) => {
    const text = await c.req.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return c.json(rpcError(null, RPC.parseError, `Parse error: ${errorMessage(error)}`));
    }
    return c.json(await handleJsonRpc(parsed, ctx.mcp));
  });

  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
  app.onError((error, c) => {
    ctx.log?.(`${c.req.method} ${c.req.path}: ${errorMessage(error)}`);
    return c.json({ detail: errorMessage(error) }, 500);
  });
  return app;
}
