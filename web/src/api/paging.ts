// Which page of a cursor-paginated list to ask for next, kept outside React's state. The table asks
// for more from an effect, and an effect can run in a render that does not yet hold the page that
// just arrived (a scroll renders synchronously ahead of it); asking from the rendered state then
// fetched that page a second time and showed its rows twice.

export interface PageRequest {
  key: string;
  cursor: string | null;
  /** The first page of `key`: its items replace whatever is shown. */
  first: boolean;
  signal: AbortSignal;
}

export class PageCursor {
  private key = '';
  private next: string | null = null;
  private more = false;
  private failed = false;
  private pending: { request: PageRequest; controller: AbortController } | null = null;

  /** Starts `key` over from its first page, dropping whatever was on its way. */
  start(key: string): PageRequest {
    this.key = key;
    this.next = null;
    this.more = true;
    this.failed = false;
    return this.request(true);
  }

  /** The next page to fetch, or null while one is on its way, after a failure, or at the end. */
  following(): PageRequest | null {
    if (this.pending || this.failed || !this.more || this.next === null) return null;
    return this.request(false);
  }

  /** Takes the page fetched for `request`; false when the request was dropped meanwhile. */
  arrived(request: PageRequest, nextCursor: string | null): boolean {
    if (this.pending?.request !== request) return false;
    this.pending = null;
    this.next = nextCursor;
    this.more = nextCursor !== null;
    return true;
  }

  /** Records that `request` failed; nothing more is asked for until `start`. False when dropped. */
  failedWith(request: PageRequest): boolean {
    if (this.pending?.request !== request) return false;
    this.pending = null;
    this.failed = true;
    return true;
  }

  /** Drops the request on its way, if any (the list went away). */
  stop(): void {
    this.pending?.controller.abort();
    this.pending = null;
  }

  private request(first: boolean): PageRequest {
    this.stop();
    const controller = new AbortController();
    const request = { key: this.key, cursor: first ? null : this.next, first, signal: controller.signal };
    this.pending = { request, controller };
    return request;
  }
}
