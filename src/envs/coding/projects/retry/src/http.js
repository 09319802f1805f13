// Fetching JSON with retries: server errors and network failures are retried.
import { retry } from './retry.js';

export class HttpError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

export async function getJson(url, { fetch, ...options }) {
  return retry(async () => {
    const response = await fetch(url);
    if (!response.ok) throw new HttpError(response.status);
    return response.json();
  }, options);
}
