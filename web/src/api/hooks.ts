// Data hooks: every fetch is cancelled when its page goes away or its inputs change, so a slow
// answer for an old filter never overwrites the current one.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { Api, isAbort, type Query } from './client.ts';
import { PageCursor, type PageRequest } from './paging.ts';
import type { Page } from './schemas.ts';

export const ApiContext = createContext<Api>(new Api());
export const useApi = (): Api => useContext(ApiContext);

export type Resource<T> =
  | { state: 'loading'; data: T | null; error: null; reload: () => void }
  | { state: 'ready'; data: T; error: null; reload: () => void }
  | { state: 'failed'; data: T | null; error: Error; reload: () => void };

/** Loads `load()` whenever `key` changes; keeps the previous data visible while reloading. */
export function useResource<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [version, setVersion] = useState(0);
  const [result, setResult] = useState<{ key: string; data: T | null; error: Error | null; done: boolean }>({ key, data: null, error: null, done: false });
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setResult((previous) => ({ key, data: previous.key === key ? previous.data : null, error: null, done: false }));
    // A loader that throws before its promise (a bad id) fails this resource, not the whole page.
    new Promise<T>((resolve) => resolve(loadRef.current(controller.signal))).then(
      (data) => setResult({ key, data, error: null, done: true }),
      (error: unknown) => {
        if (!isAbort(error)) setResult((previous) => ({ key, data: previous.data, error: asError(error), done: true }));
      },
    );
    return () => controller.abort();
  }, [key, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const data = result.key === key ? result.data : null;
  if (result.key === key && result.error) return { state: 'failed', data, error: result.error, reload };
  if (result.key === key && result.done && data !== null) return { state: 'ready', data, error: null, reload };
  return { state: 'loading', data, error: null, reload };
}

export interface PagedList<T> {
  items: T[];
  /** More pages exist on the server. */
  hasMore: boolean;
  loading: boolean;
  error: Error | null;
  /** Fetches the next page unless one is already on its way or none is left. */
  loadMore: () => void;
  reload: () => void;
}

/**
 * A cursor-paginated list, fetched page by page as the reader scrolls: a 10,000-rollout run shows
 * its first rows after one small request and never holds a request for all of them.
 */
export function usePagedList<T>(key: string, fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>): PagedList<T> {
  const [state, setState] = useState<{ key: string; items: T[]; hasMore: boolean; error: Error | null }>({ key, items: [], hasMore: true, error: null });
  const [loading, setLoading] = useState(false);
  const [version, setVersion] = useState(0);
  const [pages] = useState(() => new PageCursor());
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const fetchFor = useCallback(
    (request: PageRequest) => {
      setLoading(true);
      new Promise<Page<T>>((resolve) => resolve(fetchRef.current(request.cursor, request.signal))).then(
        (page) => {
          const nextCursor = page.nextCursor || null;
          if (!pages.arrived(request, nextCursor)) return;
          setLoading(false);
          setState((previous) => ({
            key: request.key,
            items: request.first || previous.key !== request.key ? page.items : previous.items.concat(page.items),
            hasMore: nextCursor !== null,
            error: null,
          }));
        },
        (error: unknown) => {
          if (isAbort(error) || !pages.failedWith(request)) return;
          setLoading(false);
          setState((previous) => ({ ...previous, key: request.key, error: asError(error) }));
        },
      );
    },
    [pages],
  );

  useEffect(() => {
    setState({ key, items: [], hasMore: true, error: null });
    fetchFor(pages.start(key));
    return () => pages.stop();
  }, [key, version, pages, fetchFor]);

  const loadMore = useCallback(() => {
    const request = pages.following();
    if (request) fetchFor(request);
  }, [pages, fetchFor]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  const fresh = state.key === key;
  return { items: fresh ? state.items : [], hasMore: fresh ? state.hasMore : true, loading, error: fresh ? state.error : null, loadMore, reload };
}

/** A stable string key for a query object (its entries sorted, empties dropped). */
export function queryKey(prefix: string, query: Query): string {
  const entries = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .sort(([a], [b]) => a.localeCompare(b));
  return `${prefix}?${entries.map(([k, v]) => `${k}=${String(v)}`).join('&')}`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
