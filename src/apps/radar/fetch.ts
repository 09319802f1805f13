// Reading a feed's bytes from a server that may be hostile, or from a local file, and decoding
// them. Redirects are followed by hand so each hop can be checked, both by how its URL is written
// and by the address its connection reaches; the body is bounded in bytes and the whole exchange
// in time; the text is decoded by the charset the server or the XML declaration names, and bytes
// that are not valid in it are an error, never replacement marks.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type * as Undici from 'undici';
import { AddressRefused, checkingConnector, type AddressCheck } from './addresses.ts';

/** Far above any feed's size; what a misbehaving server sends past it is not held in memory. */
export const MAX_FEED_BYTES = 32 * 1024 * 1024;
/** Feeds move now and then; a chain longer than this is a loop or a trap. */
export const MAX_REDIRECTS = 5;

export interface SourceOptions {
  base: string;
  /**
   * Default: undici's fetch. Each request's init carries the `dispatcher` that checks where it
   * connects; a fetch that ignores it (a test double) gets only the checks on the URL as written.
   */
  fetch?: typeof fetch;
  /** For the whole exchange: every redirect and the body, so a server trickling bytes is cut off. */
  timeoutMs: number;
  /** How host names are resolved and which addresses they may reach (default: public ones, by the system resolver). */
  addressCheck?: AddressCheck;
  /** The feed URL's own host name may resolve to any address, private ones included (a feed on the local network). */
  allowPrivateAddresses?: boolean;
}

export async function loadSource(source: string, options: SourceOptions): Promise<string> {
  if (!/^https?:\/\//i.test(source)) return decodeFeed(await readFile(resolve(options.base, source)), { where: source, contentType: null });
  const signal = AbortSignal.timeout(options.timeoutMs);
  const undici = await import('undici');
  // The feed's own host is trusted where the feeds file says it is local: written as a loopback,
  // private or link-local address or `localhost` (`http://localhost:8080/feed.xml` is fine), or
  // any name with allowPrivateAddresses; it is then connected to whatever it resolves to, until a
  // redirect leaves it. Every other connection, a listed public name's included (its DNS could
  // answer with the metadata service's address), goes only to an address that was checked.
  const check = options.addressCheck ?? {};
  const url = new URL(source);
  const trustFeedHost = options.allowPrivateAddresses === true || isInternalHost(url.hostname);
  const transport = {
    fetch: options.fetch ?? (undici.fetch as unknown as typeof fetch),
    trusted: check.resolveHost ? new undici.Agent({ connect: checkingConnector(undici, { resolveHost: check.resolveHost, refusal: () => null }) }) : new undici.Agent(),
    checked: new undici.Agent({ connect: checkingConnector(undici, check) }),
  };
  try {
    return await fetchFollowing(url, { ...transport, signal, trustFeedHost });
  } catch (error) {
    if (signal.aborted) throw new Error(`${redactUrl(source)} did not send the whole feed within ${options.timeoutMs} ms`, { cause: error });
    throw error;
  } finally {
    await Promise.all([transport.trusted.destroy(), transport.checked.destroy()]).catch(() => undefined);
  }
}

interface Transport {
  fetch: typeof fetch;
  trusted: Undici.Dispatcher;
  checked: Undici.Dispatcher;
  signal: AbortSignal;
  trustFeedHost: boolean;
}

async function fetchFollowing(start: URL, options: Transport): Promise<string> {
  let url = start;
  let from: URL | null = null;
  let onFeedHost = options.trustFeedHost;
  for (let hop = 0; ; hop++) {
    // Once a redirect leaves the feed's host, a hop back to it is checked like any other.
    onFeedHost &&= sameHost(url, start);
    let response: Response;
    try {
      const init = { signal: options.signal, redirect: 'manual', dispatcher: onFeedHost ? options.trusted : options.checked };
      response = await options.fetch(url.href, init as RequestInit);
    } catch (error) {
      const refused = error instanceof Error && error.cause instanceof AddressRefused ? error.cause : null;
      if (refused && from) throw new Error(`refused the redirect from ${redactUrl(from.href)} to ${redactUrl(url.href)}${feedNote(from, start)}: ${refused.message}; a redirect may only reach public addresses`, { cause: error });
      if (refused) {
        throw new Error(`refused to fetch ${redactUrl(url.href)}: ${refused.message}; a feed's host name must resolve to public addresses unless the feed sets allowPrivateAddresses: true`, { cause: error });
      }
      throw new Error(`cannot fetch ${redactUrl(url.href)}: ${causeOf(error)}`, { cause: error });
    }
    if (![301, 302, 303, 307, 308].includes(response.status)) {
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`HTTP ${response.status} from ${redactUrl(url.href)}`);
      }
      return decodeFeed(await boundedBytes(response, url.href), { where: redactUrl(url.href), contentType: response.headers.get('content-type') });
    }
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (!location) throw new Error(`HTTP ${response.status} from ${redactUrl(url.href)} without a Location header`);
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${redactUrl(start.href)}; expected a feed within ${MAX_REDIRECTS}`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (error) {
      throw new Error(`${redactUrl(url.href)} redirects to '${location.slice(0, 200)}', which is not a URL`, { cause: error });
    }
    const refusal = redirectRefusal(url, next);
    if (refusal) throw new Error(`refused the redirect from ${redactUrl(url.href)} to ${redactUrl(next.href)}: ${refusal}`);
    from = url;
    url = next;
  }
}

const sameHost = (a: URL, b: URL) => a.hostname.toLowerCase().replace(/\.$/, '') === b.hostname.toLowerCase().replace(/\.$/, '');

/** The feed a refused hop came from, when the hop was not the feed URL's own redirect. */
const feedNote = (from: URL, start: URL) => (from.href === start.href ? '' : ` (following the feed ${redactUrl(start.href)})`);

/**
 * Why a hop may not be followed by how its URL is written, or null: the feed's own URL is trusted,
 * where a server sends us is not. Names are checked again on the address they resolve to when
 * the connection is made (`addresses.ts`).
 */
export function redirectRefusal(from: URL, to: URL): string | null {
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return `a ${to.protocol} URL; only http(s) is followed`;
  if (from.protocol === 'https:' && to.protocol === 'http:') return 'it drops from https to plain http';
  if (to.username || to.password) return 'the target URL carries credentials';
  // A feed server must not be able to point the radar at the machine's own services or a cloud
  // metadata endpoint; a feed configured on such a host may still redirect within it.
  if (to.hostname.toLowerCase() !== from.hostname.toLowerCase() && isInternalHost(to.hostname)) return 'the target is a loopback, private, link-local or metadata address';
  return null;
}

/** Literal addresses and names that reach this machine or its private network, as written (names are not resolved here). */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host === '') return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host) ?? /^::ffff:(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (host.includes(':')) {
    // The URL parser writes IPv6 in its shortest form: ::1, ::, fc00::/7, fe80::/10, and IPv4-mapped in hex.
    if (host === '::1' || host === '::' || /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host)) return true;
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (mapped) {
      const high = parseInt(mapped[1] ?? '0', 16);
      return isInternalHost(`${high >> 8}.${high & 0xff}.0.0`);
    }
  }
  return false;
}

async function boundedBytes(response: Response, source: string): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    bytes += value.byteLength;
    if (bytes > MAX_FEED_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`${redactUrl(source)} sent more than ${MAX_FEED_BYTES} bytes; a feed is expected to be far smaller`);
    }
    chunks.push(value);
  }
}

/**
 * The text of a feed: the Content-Type charset wins (RFC 7303), then a byte-order mark, then the
 * XML declaration's encoding, else UTF-8. Bytes that are not valid in that encoding are an error.
 */
export function decodeFeed(bytes: Uint8Array, options: { where: string; contentType: string | null }): string {
  const fromHeader = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(options.contentType ?? '')?.[1];
  const fromBom = bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : undefined;
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const fromDeclaration = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  const declared = fromHeader ?? fromBom ?? fromDeclaration;
  const label = declared ?? 'utf-8';
  const said = fromHeader ? 'the Content-Type header' : fromBom ? 'the byte-order mark' : fromDeclaration ? 'the XML declaration' : 'the default';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch (error) {
    throw new Error(`${options.where} declares the encoding '${label.slice(0, 40)}' (${said}), which this reader does not know; expected UTF-8, UTF-16 or an ISO-8859/Windows code page`, { cause: error });
  }
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new Error(`${options.where} is not valid ${decoder.encoding} (the encoding ${said} names); expected text in the declared encoding`, { cause: error });
  }
}

/** A URL as it may appear in reports and the digest: a password or token in its user part is not. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

function causeOf(error: unknown): string {
  // undici hides the reason behind "fetch failed".
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : null;
  return cause ?? (error instanceof Error ? error.message : String(error));
}
