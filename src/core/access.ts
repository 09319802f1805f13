// Who may talk to a Gauntlet server: anyone on loopback; beyond it, only holders of the bearer
// token. A non-loopback bind without a token is refused at startup rather than served open. Both
// HTTP servers (`serve`, `serve-env`) also refuse other sites' pages, and bodies nested too deep.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { InputError } from './errors.ts';

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form), or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.startsWith('::ffff:127.');
  return false;
}

/**
 * The token a server will demand, if any; throws when a non-loopback bind would be served without
 * one. `exposes` says what an open server would let anyone on the network do.
 */
export function requiredToken(options: { host: string; token: string | undefined; exposes: string }): string | undefined {
  const { token } = options;
  if (token !== undefined && token.trim() === '') throw new InputError('token', 'the bearer token is empty', 'a non-empty secret');
  // Header values arrive trimmed, so a padded token could never be matched: every request would be refused.
  if (token !== undefined && token !== token.trim()) throw new InputError('token', 'the bearer token starts or ends with whitespace, which no request header can carry', 'the secret without surrounding spaces');
  // Node reads header bytes as Latin-1, curl sends other characters as UTF-8 and browsers cannot
  // send those past U+00FF at all: such a token would be refused to some clients or to all.
  if (token !== undefined && /[^\x20-\x7e]/.test(token)) {
    throw new InputError('token', 'the bearer token holds characters other than printable ASCII, which clients send in different bytes (or not at all), so requests would be refused', 'a secret of printable ASCII characters, such as one from `openssl rand -hex 32`');
  }
  if (token === undefined && !isLoopbackHost(options.host)) {
    throw new InputError('host', `binding ${options.host} (beyond loopback) without a bearer token would let anyone on the network ${options.exposes}`, '--token SECRET or the GAUNTLET_TOKEN environment variable');
  }
  return token;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Compares `Authorization: Bearer …` with the token in constant time (as digests, so lengths do not leak either). */
export function hasBearerToken(header: string | undefined, token: string): boolean {
  const offered = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(offered), digest(token)) && offered !== '';
}

/** `host[:port]` as a URL has it (default port dropped, IPv6 bracketed); null when it is no host at all. */
function hostOf(hostHeader: string): URL | null {
  try {
    return new URL(`http://${hostHeader}`);
  } catch (_error) {
    return null;
  }
}

/** Same-origin requests carry no Origin or their own; a browser on another site sends its own ('null' from sandboxed pages). */
function foreignOrigin(origin: string, addressed: URL): boolean {
  if (origin === 'null') return true;
  try {
    return new URL(origin).host !== addressed.host;
  } catch (_error) {
    return true;
  }
}

/**
 * Why a request a browser may have sent must be refused (403), or null to let it through. Without
 * a token the server is on loopback: a request addressed to another name is a rebound DNS name
 * letting a page elsewhere read through it. With or without one, a page of another origin could
 * otherwise act through the user's browser. Clients that are not browsers send no Origin.
 */
export function browserRefusal(request: { host: string | undefined; origin: string | undefined; tokenRequired: boolean }): string | null {
  const addressed = hostOf(request.host ?? '');
  if (!request.tokenRequired && !(addressed && isLoopbackHost(addressed.hostname))) {
    return `host "${addressed?.hostname ?? request.host ?? ''}" is not loopback: this server only answers requests addressed to it on loopback`;
  }
  const { origin } = request;
  if (origin !== undefined && (addressed === null || foreignOrigin(origin, addressed))) return `requests from pages of other origins (${origin}) are refused`;
  return null;
}

/** How deep a request's JSON may nest: far beyond any real body, far short of what recursive validation and serialisation survive. */
export const MAX_JSON_DEPTH = 256;

/** Whether parsed JSON nests arrays and objects deeper than `max`; iterative, so no depth overflows the stack checking it. */
export function nestsDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const pending: { node: object; depth: number }[] = value !== null && typeof value === 'object' ? [{ node: value, depth: 1 }] : [];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.depth > max) return true;
    for (const child of Object.values(next.node)) {
      if (child !== null && typeof child === 'object') pending.push({ node: child as object, depth: next.depth + 1 });
    }
  }
  return false;
}
