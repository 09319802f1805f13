// The remote sandbox protocol, version 1: what a `remote` client and `gauntlet sandbox-server` say
// to each other. One zod schema per body, parsed on both sides; docs/design/remote-sandbox.md
// explains each route. Bytes travel as base64 so any file content survives JSON.
import { z } from 'zod';
import { isValidLimit, limitRangeText, type ResolvedLimits } from '../limits.ts';

export const PROTOCOL_VERSION = 1;
/** Every request carries this header; a server speaking another version refuses with `protocol_version`. */
export const PROTOCOL_HEADER = 'gauntlet-sandbox-protocol';
export const API_PREFIX = '/v1';
/** Where a client finds the server's bearer token (here so that refusals of it can name the variable). */
export const REMOTE_TOKEN_VARIABLE = 'GAUNTLET_SANDBOX_TOKEN';

/** A limit in its range (limits.ts, the same check a local sandbox makes); the message names the range. */
const limit = (key: keyof ResolvedLimits) =>
  z
    .number({ error: `expected ${limitRangeText(key)}` })
    .refine((value) => isValidLimit(key, value), { error: (issue) => `expected ${limitRangeText(key)}, got ${String(issue.input)}` })
    .optional();

export const Limits = z
  .object({
    timeoutMs: limit('timeoutMs'),
    maxOutputBytes: limit('maxOutputBytes'),
    memoryBytes: limit('memoryBytes'),
    maxProcesses: limit('maxProcesses'),
    cpus: limit('cpus'),
    diskBytes: limit('diskBytes'),
  })
  .strict();
export type Limits = z.infer<typeof Limits>;

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64 text');

/**
 * A record that refuses a key named `__proto__`: zod leaves one out of what it parses without a
 * word (assigning it would replace the prototype), so a file or variable of that name would vanish.
 */
const ownRecord = <V extends z.ZodType>(key: z.ZodString, value: V) =>
  z.preprocess((input, ctx) => {
    if (input !== null && typeof input === 'object' && Object.hasOwn(input, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], input, message: 'a key named __proto__ cannot be carried by the protocol; rename it' });
    }
    return input;
  }, z.record(key, value));

/** Text handed to the sandbox as a C string (argv, environment, a path), which ends at a NUL. */
const cText = () => z.string().refine((text) => !text.includes('\0'), 'contains a NUL byte (expected text without any)');

export const CreateRequest = z
  .object({
    limits: Limits.default({}),
    /** Files placed in the work dir before anything runs: path relative to it → base64 content. */
    files: ownRecord(z.string().min(1), Base64).default({}),
    workdir: z.string().min(1).optional(),
  })
  .strict();
export type CreateRequest = z.infer<typeof CreateRequest>;

export const Lease = z.object({
  /** How long the sandbox lives without a request or heartbeat from its client. */
  ttlMs: z.number().int().positive(),
  /** Epoch milliseconds on the server's clock. */
  expiresAt: z.number().int(),
});
export type Lease = z.infer<typeof Lease>;

export const CreateResponse = z.object({
  id: z.string().regex(/^sbx_[A-Za-z0-9_-]+$/),
  /** The isolation the server gives each command (its own local backend). */
  backend: z.enum(['bwrap', 'virtual']),
  workdir: z.string().min(1),
  lease: Lease,
  /**
   * The largest file (bytes, as UTF-8) the server answers a read with; a larger one is `too_large`.
   * Added after v1 shipped: absent from an older server, and an older client ignores it.
   */
  maxReadBytes: z.number().int().positive().optional(),
});
export type CreateResponse = z.infer<typeof CreateResponse>;

export const ExecRequest = z
  .object({
    command: cText(),
    /** Absent: the sandbox's own limit (limits.timeoutMs), which also caps any value given. */
    timeoutMs: z.number().positive().optional(),
    stdin: z.string().optional(),
    cwd: cText().min(1).optional(),
    env: ownRecord(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), cText()).optional(),
  })
  .strict();
export type ExecRequest = z.infer<typeof ExecRequest>;

export const ExecResponse = z.object({
  exitCode: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  timedOut: z.boolean(),
  truncated: z.boolean(),
  durationMs: z.number().nonnegative(),
  /** Set when the sandbox itself failed (not the command): the caller treats it as infrastructure. */
  sandboxFailure: z.string().optional(),
});
export type ExecResponse = z.infer<typeof ExecResponse>;

export const ReadRequest = z.object({ path: z.string().min(1) }).strict();
export const ReadResponse = z.object({ content: Base64.nullable() });
export const WriteRequest = z.object({ path: z.string().min(1), content: Base64 }).strict();
export const ListResponse = z.object({
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
export const HeartbeatResponse = z.object({ lease: Lease });
export const HealthResponse = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  backend: z.enum(['bwrap', 'virtual']),
  sandboxes: z.number().int().nonnegative(),
  maxSandboxes: z.number().int().positive(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/**
 * Why a request failed. `sandbox_path` and `no_space` are the agent's doing (a path outside the
 * work dir, a work dir it filled) and come back to the environment as the errors a local sandbox
 * throws; `no_route` and `bad_method` mean the client is set up wrongly (a base URL with a path, a
 * server of another version); the rest are infrastructure or a caller's bug. `capacity` is also a
 * server whose request-body memory is full (with Retry-After), or that has no room now to send a
 * file read; `too_large` also a file read over the server's limit; `body_timeout` a request body
 * that did not arrive whole in time (added after v1 shipped: an older client reads it as HTTP 408).
 */
export const ErrorCode = z.enum(['bad_request', 'protocol_version', 'unauthorized', 'forbidden', 'not_found', 'no_route', 'bad_method', 'sandbox_path', 'no_space', 'capacity', 'too_large', 'body_timeout', 'sandbox_failed']);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({ error: z.object({ code: ErrorCode, message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const ERROR_STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 405 | 408 | 413 | 500 | 503> = {
  bad_request: 400,
  protocol_version: 400,
  unauthorized: 401,
  // A browser's request: a page of another origin, or a DNS name rebound to loopback.
  forbidden: 403,
  not_found: 404,
  no_route: 404,
  bad_method: 405,
  sandbox_path: 400,
  // 4xx: a proxy or an older client that does not know the code must not retry it either.
  no_space: 413,
  capacity: 503,
  too_large: 413,
  body_timeout: 408,
  sandbox_failed: 500,
};

/**
 * Why `token` cannot travel as `Authorization: Bearer …`, or null when it can. An HTTP header holds
 * bytes (U+0000–U+00FF) without NUL or line breaks: fetch refuses any other token before sending,
 * and no request can ever match a server's. The reason never quotes the token.
 */
export function bearerTokenProblem(token: string): string | null {
  return /[\0\r\n]|[^\0-\u00ff]/.test(token) ? 'contains a NUL, a line break or a character beyond U+00FF, which no HTTP header can carry' : null;
}

export const toBase64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const fromBase64 = (data: string): string => Buffer.from(data, 'base64').toString('utf8');
