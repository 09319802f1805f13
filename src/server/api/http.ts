// The API's boundary: every body and query checked with zod, every failure one JSON shape
// (`{ error: { message, field } }`) with the status that says whose problem it is.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { errorMessage, InputError, MAX_JSON_DEPTH, nestsDeeperThan, StoreError, StoredDataError } from '../../core/index.ts';
import { ReviewConflictError } from '../../review/index.ts';

/** A named thing the request points at does not exist (404), or conflicts with what does (409). */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly field: string | null;
  constructor(status: ContentfulStatusCode, message: string, field: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
  }
}

export const notFound = (what: string, field: string | null = null) => new ApiError(404, `${what} not found`, field);

export interface ErrorBody {
  error: { message: string; field: string | null; expected?: string };
}

function fieldOf(issue: z.core.$ZodIssue, prefix: string | null): string {
  // An unknown key is named by the key itself, so a misspelt field is pointed at.
  const keys = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const path = [...issue.path.map(String), ...keys].join('.');
  return [prefix, path].filter(Boolean).join('.') || prefix || 'body';
}

/** The first zod issue as an InputError naming the field (all of them in the message). */
function inputErrorFrom(error: z.ZodError, prefix: string | null): InputError {
  const [first] = error.issues;
  const field = first ? fieldOf(first, prefix) : prefix ?? 'body';
  const rest = error.issues.slice(1).map((i) => `${fieldOf(i, prefix)}: ${i.message}`);
  return new InputError(field, `${first?.message ?? 'invalid'}${rest.length ? ` (also ${rest.join('; ')})` : ''}`);
}

/** The JSON body checked against `schema`; an InputError naming the first bad field otherwise. */
export async function jsonBody<T>(c: Context, schema: z.ZodType<T>, options: { optional?: boolean } = {}): Promise<T> {
  const text = await c.req.text();
  let value: unknown;
  if (text.trim() === '') {
    if (!options.optional) throw new InputError('body', 'is empty', 'a JSON object');
    value = {};
  } else {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError('body', `is not valid JSON (${errorMessage(error)})`, 'a JSON object');
    }
  }
  // Checking deeper JSON against a recursive schema would overflow the stack.
  if (nestsDeeperThan(value)) throw new InputError('body', `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, `at most ${MAX_JSON_DEPTH} levels of nesting`);
  const result = schema.safeParse(value);
  if (!result.success) throw inputErrorFrom(result.error, null);
  return result.data;
}

/** The query string checked against `schema`; empty parameters (`?env=`) count as absent. */
export function queryOf<T>(c: Context, schema: z.ZodType<T>): T {
  const raw = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const result = schema.safeParse(raw);
  if (!result.success) throw inputErrorFrom(result.error, null);
  return result.data;
}

export const QueryBoolean = z.enum(['true', 'false'], { error: 'true or false' }).transform((v) => v === 'true');
export const QueryNumber = z.coerce.number({ error: 'a number' }).refine(Number.isFinite, 'a finite number');

export const PageQuery = {
  limit: z.coerce.number({ error: 'a whole number' }).int('a whole number').min(1, 'at least 1').max(1000, 'at most 1000').default(50),
  cursor: z.string().optional(),
};

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A page of an ordered list; the cursor names the last item returned, so the next page starts right after it. */
export function paginate<T>(items: readonly T[], options: { limit: number; cursor?: string | undefined }, key: (item: T) => string): Page<T> {
  let start = 0;
  if (options.cursor !== undefined) {
    const after = Buffer.from(options.cursor, 'base64url').toString('utf8');
    const at = items.findIndex((item) => key(item) === after);
    if (at < 0) throw new InputError('cursor', 'names an item no longer in this list', 'the nextCursor of the previous page, or no cursor to start over');
    start = at + 1;
  }
  const slice = items.slice(start, start + options.limit);
  const more = start + options.limit < items.length;
  return { items: slice, nextCursor: more && slice.length > 0 ? Buffer.from(key(slice.at(-1)!), 'utf8').toString('base64url') : null };
}

/**
 * The reply for a failure: 400 for bad input (naming the field), 404/409 as raised (a label
 * clashing with another reviewer's reservation is 409 too), 503 for a store that cannot serve
 * (damaged data in it included: the request was fine), 500 otherwise.
 */
export function errorResponse(c: Context, error: unknown, log?: (line: string) => void): Response {
  if (error instanceof StoredDataError) {
    log?.(`store: ${error.message}`);
    return c.json<ErrorBody>({ error: { message: error.message, field: null } }, 503);
  }
  if (error instanceof InputError) {
    const status = error instanceof ReviewConflictError ? 409 : 400;
    return c.json<ErrorBody>({ error: { message: error.message, field: error.where, ...(error.expected ? { expected: error.expected } : {}) } }, status);
  }
  if (error instanceof ApiError) return c.json<ErrorBody>({ error: { message: error.message, field: error.field } }, error.status);
  if (error instanceof StoreError) {
    log?.(`store: ${error.message}`);
    return c.json<ErrorBody>({ error: { message: error.message, field: null } }, 503);
  }
  log?.(`${c.req.method} ${c.req.path}: ${error instanceof Error && error.stack ? error.stack : errorMessage(error)}`);
  return c.json<ErrorBody>({ error: { message: `internal error: ${errorMessage(error)}`, field: null } }, 500);
}
