// Who may talk to a Gauntlet server: anyone on loopback; beyond it, only holders of the bearer
// token. A non-loopback bind without a token is refused at startup rather than served open.
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
