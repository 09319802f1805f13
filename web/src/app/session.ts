// Who is reviewing and how the browser authenticates: the reviewer's name is kept across visits
// (localStorage); the bearer token only for this tab (sessionStorage), never in the URL after load.
import { createContext, useCallback, useContext, useState } from 'react';

const REVIEWER_KEY = 'gauntlet.reviewer';
const TOKEN_KEY = 'gauntlet.token';

export function readToken(): string | null {
  return window.sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  window.sessionStorage.setItem(TOKEN_KEY, token);
}

/** A `?token=` on the page URL (as `gauntlet serve` prints it) is moved into the tab's storage and removed from the address bar. */
export function adoptTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  storeToken(token);
  url.searchParams.delete('token');
  window.history.replaceState(null, '', url.toString());
}

export interface Reviewer {
  name: string;
  setName: (name: string) => void;
}

export const ReviewerContext = createContext<Reviewer>({ name: '', setName: () => {} });
export const useReviewer = (): Reviewer => useContext(ReviewerContext);

export function useReviewerState(): Reviewer {
  const [name, setNameState] = useState(() => window.localStorage.getItem(REVIEWER_KEY) ?? '');
  const setName = useCallback((next: string) => {
    const trimmed = next.trim();
    window.localStorage.setItem(REVIEWER_KEY, trimmed);
    setNameState(trimmed);
  }, []);
  return { name, setName };
}
