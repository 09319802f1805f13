// Routes live in the URL hash (`#/runs/ID?status=scored`): any static server can serve the app,
// reload and back/forward keep the page and its filters, and links can be pasted to a colleague.
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'runs' }
  | { page: 'run'; runId: string }
  | { page: 'rollout'; rolloutId: string }
  | { page: 'compare'; rolloutId: string; otherId: string }
  | { page: 'queues' }
  | { page: 'queue'; queueId: string }
  | { page: 'stats' }
  | { page: 'monitoring' }
  | { page: 'reports' }
  | { page: 'report'; name: string }
  | { page: 'author' }
  | { page: 'exports' }
  | { page: 'not-found'; path: string };

export interface Location {
  route: Route;
  query: URLSearchParams;
}

const patterns: Array<[RegExp, (m: string[]) => Route]> = [
  [/^\/?$/, () => ({ page: 'runs' })],
  [/^\/runs$/, () => ({ page: 'runs' })],
  [/^\/runs\/([^/]+)$/, (m) => ({ page: 'run', runId: m[1]! })],
  [/^\/rollouts\/([^/]+)$/, (m) => ({ page: 'rollout', rolloutId: m[1]! })],
  [/^\/rollouts\/([^/]+)\/compare\/([^/]+)$/, (m) => ({ page: 'compare', rolloutId: m[1]!, otherId: m[2]! })],
  [/^\/queues$/, () => ({ page: 'queues' })],
  [/^\/queues\/([^/]+)$/, (m) => ({ page: 'queue', queueId: m[1]! })],
  [/^\/stats$/, () => ({ page: 'stats' })],
  [/^\/monitoring$/, () => ({ page: 'monitoring' })],
  [/^\/reports$/, () => ({ page: 'reports' })],
  [/^\/reports\/([^/]+)$/, (m) => ({ page: 'report', name: m[1]! })],
  [/^\/author$/, () => ({ page: 'author' })],
  [/^\/exports$/, () => ({ page: 'exports' })],
];

/**
 * A path segment for the address bar. encodeURIComponent throws on a lone surrogate (an id can hold
 * one: ids are stored as given), which would take the whole page down; those are written `%uD800`,
 * which encodeURIComponent never produces (it writes `%` as `%25`), so decoding gives the id back.
 */
export function encodeSegment(segment: string): string {
  return segment.replace(/\p{Cs}|\P{Cs}+/gu, (part) => (/^\p{Cs}$/u.test(part) ? `%u${part.charCodeAt(0).toString(16).toUpperCase()}` : encodeURIComponent(part)));
}

/** The segment `encodeSegment` wrote; null for text that is not one (a hand-edited `%E0%A4%A`). */
export function decodeSegment(segment: string): string | null {
  try {
    return segment
      .split(/(%u[\dA-Fa-f]{4})/)
      .map((part) => (/^%u[\dA-Fa-f]{4}$/.test(part) ? String.fromCharCode(Number.parseInt(part.slice(2), 16)) : decodeURIComponent(part)))
      .join('');
  } catch (_error) {
    return null;
  }
}

export function parseLocation(hash: string): Location {
  const raw = hash.replace(/^#/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const query = new URLSearchParams(search);
  for (const [pattern, build] of patterns) {
    const match = pattern.exec(path);
    if (!match) continue;
    const parts = match.map((part) => decodeSegment(part ?? ''));
    if (parts.some((part) => part === null)) break;
    return { route: build(parts as string[]), query };
  }
  return { route: { page: 'not-found', path }, query };
}

/** `#/runs/a%2Fb?status=scored`: path segments are encoded, empty query values dropped. */
export function href(segments: readonly string[], query: Record<string, string | number | null | undefined> = {}): string {
  const path = segments.map(encodeSegment).join('/');
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const search = params.toString();
  return `#/${path}${search ? `?${search}` : ''}`;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  // pushState does not fire hashchange; tell the app ourselves.
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Replaces some query parameters of the current location (filters), keeping the rest. */
export function updateQuery(changes: Record<string, string | number | null | undefined>): void {
  const raw = window.location.hash.replace(/^#/, '');
  const [path = '/', search = ''] = raw.split('?', 2);
  const params = new URLSearchParams(search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === null || value === '') params.delete(key);
    else params.set(key, String(value));
  }
  const next = params.toString();
  navigate(`#${path}${next ? `?${next}` : ''}`, { replace: true });
}

export function useLocation(): Location {
  const [location, setLocation] = useState(() => parseLocation(window.location.hash));
  useEffect(() => {
    const onChange = () => setLocation(parseLocation(window.location.hash));
    window.addEventListener('hashchange', onChange);
    window.addEventListener('popstate', onChange);
    return () => {
      window.removeEventListener('hashchange', onChange);
      window.removeEventListener('popstate', onChange);
    };
  }, []);
  return location;
}
