// The sandbox server's routes (protocol v1, docs/design/remote-sandbox.md): create, exec, files,
// heartbeat, teardown. Bodies are read within the shared body budget (../body-budget.ts) and parsed
// with the protocol's zod schemas; file reads, exec results and listings are answered within it too
// (read-reply.ts, exec-reply.ts, list-reply.ts); every failure is a typed JSON error body.
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { browserRefusal, errorMessage, hasBearerToken, InputError, type Sandbox } from '../../core/index.ts';
import { DEFAULT_LIMITS, FileTooLargeError, SandboxFullError, SandboxPathError, type SandboxLimits } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { bufferBody, describeBytes, type BodyBudget, type BodyRefusal, type Buffered, type RefusalReply } from '../body-budget.ts';
import { execReply, holdExecReply } from './exec-reply.ts';
import type { ReplyRefusal } from './held-reply.ts';
import { holdListing, listReply } from './list-reply.ts';
import { PoolFullError, type SandboxPool } from './pool.ts';
import { holdRead, OneAtATime, readBound, readReply, readSideBySide, tooLargeMessage } from './read-reply.ts';

export interface SandboxAppContext {
  pool: SandboxPool;
  backend: 'bwrap' | 'virtual';
  token: string | undefined;
  /** One request body's bytes at most. */
  maxBodyBytes: number;
  /**
   * Shared by every request body being read or handled (an exec's until its command ends), every
   * exec's reply (its sandbox's output limit from before the command runs, then the reply's own
   * length until it is sent), and every file read and listing being sent.
   */
  bodyBudget: BodyBudget;
  /** One file read's bytes at most; a larger file is refused with `too_large`. */
  maxReadBytes: number;
  /** A request body must have arrived whole this long after its reading began. */
  bodyTimeoutMs: number;
  /** The largest limits a client may ask for; a bigger one is refused, not lowered. */
  maxLimits: SandboxLimits;
  /** Starts one sandbox on this machine. */
  create: (request: P.CreateRequest) => Promise<Sandbox>;
}

class Refusal extends Error {
  constructor(
    readonly code: P.ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function refuse(c: Context, code: P.ErrorCode, message: string, headers: Record<string, string> = {}): Response {
  // Refused before its body was read to the end (too large, unauthorized, another version): the
  // rest may still be on its way, so the connection ends with this reply. Kept open, the client
  // would send its next request down it and see that, or this reply, dropped.
  if (code === 'too_large' || (c.req.raw.body !== null && !c.req.raw.bodyUsed)) c.header('Connection', 'close');
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  const body: P.ErrorBody = { error: { code, message } };
  return c.json(body, P.ERROR_STATUS[code]);
}

/**
 * A body refused by `bufferBody`, in the protocol's error shape. Busy is `capacity`, which every
 * client (older ones too) reports as a retryable infrastructure error; a body cut off mid-way has
 * nobody left to read its answer.
 */
const REFUSAL_CODE: Record<BodyRefusal['kind'], P.ErrorCode> = { 'too large': 'too_large', busy: 'capacity', late: 'body_timeout', cut: 'bad_request' };
const protocolReply: RefusalReply = (c, refusal, status, headers) => c.json({ error: { code: REFUSAL_CODE[refusal.kind], message: refusal.message } } satisfies P.ErrorBody, status, headers);

// Strict: a lenient decode would hand the sandbox U+FFFD in place of the sender's bytes.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseBody<T extends z.ZodType>(c: Context<Buffered>, schema: T): z.infer<T> {
  let json: unknown;
  try {
    const text = utf8.decode(c.get('body'));
    // Read once: let the bytes go while the request runs on (an exec's for as long as its command).
    c.set('body', new Uint8Array(0));
    json = JSON.parse(text);
  } catch {
    throw new Refusal('bad_request', 'the body is not JSON (UTF-8)');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Refusal('bad_request', issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body');
  }
  return parsed.data;
}

/** A reply the budget cannot hold, as the error the route answers: busy is retried after Retry-After, as for a body refused busy. */
function replyRefusal(refusal: ReplyRefusal): Refusal {
  return new Refusal(refusal.code, refusal.message, refusal.code === 'capacity' ? { 'Retry-After': '1' } : {});
}

/**
 * An exec holds its sandbox's output limit of the budget while its command runs (exec-reply.ts), so
 * a limit the budget cannot hold beside anything else would refuse every command: one asked for is
 * refused when it is more than the whole budget; one left unsaid is lowered to a quarter of it, so
 * that replies of several commands and their bodies fit at once.
 */
function outputUnder(limits: SandboxLimits, asked: boolean, budget: BodyBudget): SandboxLimits {
  const maxOutputBytes = limits.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes;
  if (asked && maxOutputBytes > budget.limitBytes) {
    throw new Refusal('bad_request', `limits.maxOutputBytes: ${maxOutputBytes} is more than the ${describeBytes(budget.limitBytes)} this server holds for ${budget.holds} at once (--max-body-memory), within which a command's reply is held`);
  }
  const room = Math.max(1, Math.floor(budget.limitBytes / 4));
  return !asked && maxOutputBytes > room ? { ...limits, maxOutputBytes: room } : limits;
}

/**
 * The limits a sandbox gets: those asked for, refused above this server's ceilings, and for the
 * rest the defaults, lowered to the ceilings: a ceiling bounds what a client left unsaid too.
 */
function limitsUnder(requested: P.Limits, ceiling: SandboxLimits): SandboxLimits {
  const limits: SandboxLimits = { ...requested };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof SandboxLimits)[]) {
    const max = ceiling[key];
    if (max === undefined) continue;
    const value = requested[key];
    if (value !== undefined && value > max) throw new Refusal('bad_request', `limits.${key}: ${value} is over this server's maximum of ${max}`);
    if (value === undefined && DEFAULT_LIMITS[key] > max) limits[key] = max;
  }
  return limits;
}

/** Answers a known route asked with another method: the client speaks another version of the protocol. */
const wrongMethod = (allowed: string) => (c: Context) => {
  c.header('Allow', allowed);
  return refuse(c, 'bad_method', `${c.req.method} ${c.req.path}: this route takes ${allowed}`);
};

export function createSandboxApp(ctx: SandboxAppContext): Hono {
  const app = new Hono();
  const { pool } = ctx;
  const reads = new OneAtATime();
  /** Each sandbox's output limit, which its exec replies are held within. */
  const outputLimits = new WeakMap<Sandbox, number>();

  app.onError((error, c) => {
    if (error instanceof Refusal) return refuse(c, error.code, error.message, error.headers);
    // Before SandboxPathError, which it extends: the agent filled the disk, and a retry would too.
    if (error instanceof SandboxFullError) return refuse(c, 'no_space', error.message);
    if (error instanceof SandboxPathError) return refuse(c, 'sandbox_path', error.message);
    if (error instanceof InputError) return refuse(c, 'bad_request', error.message);
    if (error instanceof PoolFullError) return refuse(c, 'capacity', error.message);
    return refuse(c, 'sandbox_failed', errorMessage(error));
  });
  // Not `not_found`, which means "no such sandbox" (retryable): a path that is no route is a wrong base URL.
  app.notFound((c) => refuse(c, 'no_route', `no route ${c.req.method} ${c.req.path} on this server (its routes are under ${P.API_PREFIX})`));

  const token = ctx.token;
  app.use('*', async (c, next) => {
    if (token !== undefined && !hasBearerToken(c.req.header('authorization'), token)) {
      c.header('WWW-Authenticate', 'Bearer');
      return refuse(c, 'unauthorized', 'a valid bearer token is required');
    }
    // A web page must not run commands here through its visitor's browser (core/access.ts).
    const refusal = browserRefusal({ host: new URL(c.req.url).host, origin: c.req.header('origin'), tokenRequired: token !== undefined });
    if (refusal !== null) return refuse(c, 'forbidden', refusal);
    await next();
  });

  const v1 = new Hono();
  v1.get('/health', (c) => {
    const stats = pool.stats();
    const body: P.HealthResponse = { protocol: P.PROTOCOL_VERSION, backend: ctx.backend, sandboxes: stats.sandboxes, maxSandboxes: stats.maxSandboxes };
    return c.json(body);
  });

  const sandboxes = new Hono<Buffered>();
  sandboxes.use('*', async (c, next) => {
    const version = c.req.header(P.PROTOCOL_HEADER);
    if (version !== String(P.PROTOCOL_VERSION)) {
      return refuse(c, 'protocol_version', `this server speaks protocol ${P.PROTOCOL_VERSION}; the request ${version === undefined ? `has no ${P.PROTOCOL_HEADER} header` : `asked for ${version}`}`);
    }
    await next();
  });

  // After the version check, and only on the routes that read one: a request refused before it
  // takes none of the budget, and elsewhere a body is drained unread.
  const body = bufferBody<Buffered>({ maxBytes: ctx.maxBodyBytes, budget: ctx.bodyBudget, timeoutMs: ctx.bodyTimeoutMs }, protocolReply);
  sandboxes.post('/', body);
  sandboxes.post('/:id/exec', body);
  sandboxes.post('/:id/files/read', body);
  sandboxes.put('/:id/files/write', body);

  const use = (id: string): Sandbox => {
    const sandbox = pool.use(id);
    if (!sandbox) throw new Refusal('not_found', `no sandbox ${id} on this server`);
    return sandbox;
  };

  sandboxes.post('/', async (c) => {
    const request = parseBody(c, P.CreateRequest);
    const limits = outputUnder(limitsUnder(request.limits, ctx.maxLimits), request.limits.maxOutputBytes !== undefined, ctx.bodyBudget);
    const opened = await pool.open(() => ctx.create({ ...request, limits }));
    outputLimits.set(opened.sandbox, limits.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes);
    // The largest read this server answers, so the client bounds what it takes from us by it.
    const maxReadBytes = Math.min(ctx.maxReadBytes, ctx.bodyBudget.limitBytes);
    const body: P.CreateResponse = { id: opened.id, backend: ctx.backend, workdir: opened.sandbox.workdir, lease: opened.lease, maxReadBytes };
    return c.json(body, 201);
  });

  sandboxes.post('/:id/exec', async (c) => {
    const request = parseBody(c, P.ExecRequest);
    const id = c.req.param('id');
    const sandbox = use(id);
    // Before the command runs: refused now, nothing ran and the client sends it again; refused once
    // it had run, its result would be lost (exec-reply.ts).
    const share = holdExecReply(outputLimits.get(sandbox) ?? DEFAULT_LIMITS.maxOutputBytes, ctx.bodyBudget);
    if ('code' in share) throw replyRefusal(share);
    let result: P.ExecResponse;
    try {
      // The request's signal aborts when the client goes away: the command is killed with it. While
      // it runs the lease holds, and it is renewed when the command ends.
      result = await pool.track(
        id,
        sandbox.exec(request.command, {
          // 0 means "the sandbox's own limit" to the local backends.
          timeoutMs: request.timeoutMs ?? 0,
          signal: c.req.raw.signal,
          ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
          ...(request.cwd !== undefined ? { cwd: request.cwd } : {}),
          ...(request.env !== undefined ? { env: request.env } : {}),
        }),
      );
    } catch (error) {
      share.release();
      throw error;
    }
    return execReply(result, share, c.req.raw.signal);
  });

  sandboxes.post('/:id/files/read', async (c) => {
    const { path } = parseBody(c, P.ReadRequest);
    const sandbox = use(c.req.param('id'));
    const limits = { maxReadBytes: ctx.maxReadBytes, budget: ctx.bodyBudget };
    // Bounded: a larger file is refused having been read no further than that.
    const readAt = async (maxBytes: number) => {
      try {
        return await sandbox.readFile(path, { maxBytes });
      } catch (error) {
        if (error instanceof FileTooLargeError && maxBytes === readBound(limits)) throw new Refusal('too_large', tooLargeMessage(path, error.sizeBytes, limits));
        throw error;
      }
    };
    // A small file is counted before it is read; a larger one is read and counted in one turn, so
    // at most one file is held uncounted at a time.
    const quick = await readSideBySide(path, readAt, limits);
    const held =
      quick !== undefined
        ? quick
        : await reads.run(async () => {
            const content = await readAt(readBound(limits));
            return content === null ? null : holdRead(path, content, limits);
          }, c.req.raw.signal);
    if (held === null) return c.json({ content: null } satisfies z.infer<typeof P.ReadResponse>);
    // Busy: nothing changed, so the client sends it again after the wait, as for a body refused busy.
    if ('code' in held) throw replyRefusal(held);
    return readReply(held, c.req.raw.signal);
  });

  sandboxes.put('/:id/files/write', async (c) => {
    const { path, content } = parseBody(c, P.WriteRequest);
    await use(c.req.param('id')).writeFile(path, P.fromBase64(content));
    return c.body(null, 204);
  });

  sandboxes.get('/:id/files', async (c) => {
    const listing = holdListing(await use(c.req.param('id')).listFiles(), ctx.bodyBudget);
    if ('code' in listing) throw replyRefusal(listing);
    return listReply(listing, c.req.raw.signal);
  });

  sandboxes.post('/:id/heartbeat', (c) => {
    const lease = pool.heartbeat(c.req.param('id'));
    if (!lease) throw new Refusal('not_found', `no sandbox ${c.req.param('id')} on this server`);
    return c.json({ lease } satisfies z.infer<typeof P.HeartbeatResponse>);
  });

  sandboxes.delete('/:id', async (c) => {
    if (!(await pool.close(c.req.param('id')))) throw new Refusal('not_found', `no sandbox ${c.req.param('id')} on this server`);
    return c.body(null, 204);
  });

  v1.all('/health', wrongMethod('GET'));
  sandboxes.all('/', wrongMethod('POST'));
  sandboxes.all('/:id/exec', wrongMethod('POST'));
  sandboxes.all('/:id/files/read', wrongMethod('POST'));
  sandboxes.all('/:id/files/write', wrongMethod('PUT'));
  sandboxes.all('/:id/files', wrongMethod('GET'));
  sandboxes.all('/:id/heartbeat', wrongMethod('POST'));
  sandboxes.all('/:id', wrongMethod('DELETE'));

  v1.route('/sandboxes', sandboxes);
  app.route(P.API_PREFIX, v1);
  return app;
}
