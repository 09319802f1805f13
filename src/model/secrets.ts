// Keeping API keys out of everything Gauntlet stores or prints. Keys live only in request headers;
// base URLs that smuggle one in (user info, `?api_key=`) are refused before anything is stored,
// and a key a server echoes back is scrubbed from messages, wire records and parsed responses.
import { InputError, type JsonValue, type ModelResponse, type ModelResult, type WireExchange } from '../core/index.ts';

/** Query parameter names (lower-cased, without `-`/`_`) that carry credentials. */
const CREDENTIAL_PARAM = /key$|token|secret|passw|credential|^auth|^sig(nature)?$/;

/** What in `url` looks like a credential, in words that do not repeat it; null when nothing does. */
export function credentialIn(url: URL): string | null {
  if (url.username || url.password) return 'user info (user:password@)';
  for (const name of new Set(url.searchParams.keys())) {
    if (CREDENTIAL_PARAM.test(name.toLowerCase().replace(/[-_]/g, ''))) return `the query parameter '${name}'`;
  }
  return null;
}

export interface BaseUrlCheck {
  /** The flag or option the URL came from, for the error (`--model`, `--base-url`, `createOpenAIChat: baseURL`). */
  where: string;
  /** Where the key belongs instead. */
  envVar: string;
}

/**
 * Refuses a base URL that carries a credential, so a key never reaches a spec, a stored run config
 * or a log line. Unparsable URLs pass through for the caller's own validation to name.
 */
export function rejectCredentials(baseUrl: string, check: BaseUrlCheck): void {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (_error) {
    return;
  }
  const credential = credentialIn(url);
  if (!credential) return;
  throw new InputError(
    check.where,
    `the base URL '${redactUrl(baseUrl)}' carries ${credential}; keys must not be part of a URL, which is stored with the run`,
    `the key in the ${check.envVar} environment variable and a base URL without it`,
  );
}

/** A base URL ready to take a path: an http(s) URL without credentials, trailing slashes trimmed. */
export function checkBaseUrl(baseUrl: string, check: BaseUrlCheck): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch (_error) {
    throw new InputError(check.where, `'${redactUrl(trimmed)}' is not a URL`, 'an http(s) base URL, e.g. http://localhost:8000/v1');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(check.where, `'${redactUrl(trimmed)}' is not an http(s) URL`, 'an http(s) base URL');
  rejectCredentials(trimmed, check);
  return trimmed;
}

/** `base` + `path`, keeping any query string of the base after the path. */
export function endpointUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url.toString();
}

/** A URL without user info or query string, which is where people sometimes put keys. */
export function redactUrl(url: string): string {
  // Credentials need an '@' and a query a '?': without either there is nothing to take out, and
  // parsing the URL on every model call for nothing showed in profiles.
  if (!url.includes('@') && !url.includes('?')) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password && !parsed.search) return url;
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch (_error) {
    return maskedUnparsable(url);
  }
}

/**
 * An unparsable URL for an error message. A password holding '/', '#' or '?' unencoded is what
 * often breaks it, so everything from the end of the scheme to the last '@' is masked, and any
 * query; the host after the '@' stays, to say which URL is meant.
 */
function maskedUnparsable(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const at = url.lastIndexOf('@');
  const rest = at < scheme.length ? url.slice(scheme.length) : `***${url.slice(at)}`;
  const query = rest.indexOf('?');
  return `${scheme}${query === -1 ? rest : `${rest.slice(0, query)}?***`}`;
}

/**
 * Secrets shorter than this are not scrubbed: such a value is a placeholder (`OPENAI_API_KEY=EMPTY`,
 * `x`, `dummy` for a local engine), not a key, and replacing every occurrence of it would corrupt
 * answers, tool arguments and ids. Real keys are tens of characters long.
 */
export const MIN_SECRET_LENGTH = 8;

/** Whether `secret` is long enough to be a key worth scrubbing (see MIN_SECRET_LENGTH). */
export function isScrubbed(secret: string | undefined): secret is string {
  return secret !== undefined && secret.length >= MIN_SECRET_LENGTH;
}

export function scrub(text: string, secret: string | undefined): string {
  return isScrubbed(secret) && text.includes(secret) ? text.split(secret).join('***') : text;
}

function scrubValue(value: JsonValue, secret: string): JsonValue {
  if (typeof value === 'string') return scrub(value, secret);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secret));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = item === undefined ? item : scrubValue(item, secret);
    return out;
  }
  return value;
}

/** A request body with the JSON bytes it was sent as, so checking it for a secret needs no second serialisation. */
export interface SentBody {
  body: JsonValue;
  /** The UTF-8 JSON in pieces; a string value never straddles two pieces. */
  bytes: readonly Buffer[];
}

/**
 * Only rebuilt where the secret actually appears, so recorded bodies normally stay the same
 * objects. The request is checked in the bytes that were sent when given (it grows with the
 * conversation; the response stays small).
 */
export function scrubWire(wire: WireExchange, secret: string | undefined, sent?: SentBody): WireExchange {
  if (!isScrubbed(secret)) return wire;
  const needle = JSON.stringify(secret).slice(1, -1);
  const inRequest = sent && sent.body === wire.request ? sent.bytes.some((piece) => piece.includes(needle, 0, 'utf8')) : JSON.stringify(wire.request).includes(needle);
  const inResponse = wire.response !== undefined && JSON.stringify(wire.response).includes(needle);
  if (!inRequest && !inResponse) return wire;
  return {
    ...wire,
    ...(inRequest ? { request: scrubValue(wire.request, secret) } : {}),
    ...(inResponse && wire.response !== undefined ? { response: scrubValue(wire.response, secret) } : {}),
  };
}

/**
 * A parsed response with the secret replaced wherever a server echoed it (assistant content,
 * reasoning, tool arguments, the provider message). Resending then differs from what was received,
 * which is the lesser harm; untouched responses stay the same objects.
 */
export function scrubResponse(response: ModelResponse, secret: string | undefined): ModelResponse {
  if (!isScrubbed(secret) || !JSON.stringify(response).includes(secret)) return response;
  return scrubValue(response as unknown as JsonValue, secret) as unknown as ModelResponse;
}

/** A result with the secret scrubbed from its response, failure message and wire record; untouched results stay the same objects. */
export function scrubResult(result: ModelResult, secret: string | undefined): ModelResult {
  if (!isScrubbed(secret)) return result;
  const wire = result.wire === undefined ? undefined : scrubWire(result.wire, secret);
  if (result.ok) {
    const response = scrubResponse(result.response, secret);
    return response === result.response && wire === result.wire ? result : { ...result, response, ...(wire ? { wire } : {}) };
  }
  const message = scrub(result.message, secret);
  return message === result.message && wire === result.wire ? result : { ...result, message, ...(wire ? { wire } : {}) };
}
