// The API's boundary: every body and query checked with zod, every failure one JSON shape
// (`{ error: { message, field } }`) with the status that says whose problem it is.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { errorMessage, InputError, MAX_JSON_DEPTH, nestsDeeperThan, StoreError, StoredDataError } from '../../core/index.ts';
import { ReviewConflictError } from '../../review/index.ts';
import type { Buffered } from '../body-budget.ts';

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

/** How many further issues an error message lists: a body with a million bad entries must not get a reply bigger than itself. */
const MAX_LISTED_ISSUES = 10;

/** The first zod issue as an InputError naming the field (the next few in the message, then how many more). */
function inputErrorFrom(error: z.ZodError, prefix: string | null): InputError {
  const [first] = error.issues;
  const field = first ? fieldOf(first, prefix) : prefix ?? 'body';
  const others = error.issues.slice(1);
  const rest = others.slice(0, MAX_LISTED_ISSUES).map((i) => `${fieldOf(i, prefix)}: ${i.message}`);
  if (others.length > MAX_LISTED_ISSUES) rest.push(`and ${others.length - MAX_LISTED_ISSUES} more`);
  return new InputError(field, `${first?.message ?? 'invalid'}${rest.length ? ` (also ${rest.join('; ')})` : ''}`);
}

/**
 * Where parsed JSON has a `__proto__` key, or null. JSON.parse keeps it as an own property, but any
 * copy by assignment (zod's records, spreads into the stored label) turns it into the prototype,
 * so its value would vanish without a word.
 */
function protoKeyPath(value: unknown): string | null {
  const pending: { node: object; path: string }[] = value !== null && typeof value === 'object' ? [{ node: value, path: '' }] : [];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { node, path } = next;
    for (const [key, child] of Object.entries(node)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key === '__proto__') return at;
      if (child !== null && typeof child === 'object') pending.push({ node: child as object, path: at });
    }
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON body checked against `schema`; an InputError naming the first bad field otherwise. */
export async function jsonBody<T>(c: Context, schema: z.ZodType<T>, options: { optional?: boolean } = {}): Promise<T> {
  // Read whole, within the shared body budget, by the app's body middleware.
  const bytes = (c as Context<Buffered>).get('body') ?? new Uint8Array(await c.req.arrayBuffer());
  let text: string;
  try {
    // Decoding leniently would store U+FFFD in place of the sender's bytes without a word.
    text = utf8.decode(bytes);
  } catch (_error) {
    throw new InputError('body', 'is not valid UTF-8 text', 'a JSON object encoded as UTF-8');
  }
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
  const proto = protoKeyPath(value);
  if (proto !== null) throw new InputError(proto, 'is a key named __proto__, which would be dropped rather than stored', 'other key names');
  const result = schema.safeParse(value);
  if (!result.success) throw inputErrorFrom(result.error, null);
  return result.data;
}

/** The query string checked against `schema`; empty parameters (`?env=`) count as absent, a repeated one is refused. */
export function queryOf<T>(c: Context, schema: z.ZodType<T>): T {
  const raw: Record<string, string> = {};
  for (const [name, all] of Object.entries(c.req.queries())) {
    const values = all.filter((v) => v !== '');
    // Every parameter takes one value: reading only the first of `?status=a&status=b` would drop the rest without a word.
    if (values.length > 1) throw new InputError(name, `is given ${values.length} times (${values.slice(0, 3).map((v) => JSON.stringify(v.slice(0, 100))).join(', ')}${values.length > 3 ? ', …' : ''})`, 'one value');
    // Defined, not assigned: `?__proto__=x` stays an own key the schema refuses by name.
    if (values[0] !== undefined) Object.defineProperty(raw, name, { value: values[0], enumerable: true, configurable: true, writable: true });
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw inputErrorFrom(result.error, null);
  return result.data;
}

/** `~` then base64url (no padding) of at least one UTF-16LE code unit. */
const ID_REFERENCE = /^~[A-Za-z0-9_-]+$/;

const REFERENCE_EXPECTED = "the id itself, or ~ followed by the unpadded base64url of the id's UTF-16LE code units";

/** The id a `~` reference names, the text itself when it is no reference, or undefined for a malformed one. */
function idFromText(raw: string): string | undefined {
  if (!raw.startsWith('~')) return raw;
  const bytes = ID_REFERENCE.test(raw) ? Buffer.from(raw.slice(1), 'base64url') : Buffer.alloc(0);
  if (bytes.length === 0 || bytes.length % 2 !== 0 || `~${bytes.toString('base64url')}` !== raw) return undefined;
  return bytes.toString('utf16le');
}

/**
 * A path parameter naming a stored id. Ids are stored as given, so one can hold a lone surrogate,
 * which no URL can carry; such an id travels as `~` + base64url of its UTF-16LE code units. A
 * segment starting with `~` is always such a reference (the viewer sends `~`-initial ids that way
 * too), and only the exact form the encoder writes is accepted, so one id has one reference.
 */
export function idParam(c: Context, name: string): string {
  const raw = c.req.param(name) ?? '';
  const id = idFromText(raw);
  if (id === undefined) throw new InputError(name, `"${raw.slice(0, 100)}" is not an id reference`, REFERENCE_EXPECTED);
  return id;
}

/** A query parameter naming a stored id, read as idParam reads a path parameter (`?runId=~…`). */
export const QueryId = z.string().transform((raw, ctx) => {
  const id = idFromText(raw);
  if (id !== undefined) return id;
  ctx.addIssue({ code: 'custom', message: `"${raw.slice(0, 100)}" is not an id reference: expected ${REFERENCE_EXPECTED}` });
  return z.NEVER;
});

export const QueryBoolean = z.enum(['true', 'false'], { error: 'true or false' }).transform((v) => v === 'true');

// Written out rather than z.coerce: Number() reads ' ' as 0 and '0x10' as 16, so a stray space would filter by 0.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
export const QueryNumber = z
  .string()
  .regex(DECIMAL, 'a number')
  .transform(Number)
  .refine(Number.isFinite, 'a finite number');

/** A whole number in decimal digits, within [min, max]. */
export const queryInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `at least ${min}`).max(max, `at most ${max}`));

export const PageQuery = {
  limit: queryInteger(1, 1000).default(50),
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
