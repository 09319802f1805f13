// A trainer's side of the rollout service, for TypeScript trainers and the service's own tests:
// request a batch, read its groups as they are handed out, announce versions, read the figures.
import type { z } from 'zod';
import { MAX_LINE_CHARS, type BatchRequest, type PolicyAnnouncement, type StreamLine } from './schemas.ts';

/** A request the service refused, with the HTTP status and the body field it named. */
export class ServiceRequestError extends Error {
  constructor(
    readonly status: number,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceRequestError';
  }
}

export interface BatchHandle {
  id: string;
  groups: number;
  groupSize: number;
  policyVersion: number;
  format: { target: string; variant: string };
  advantage: string;
  stream: string;
}

export interface ClientOptions {
  token?: string;
  fetch?: typeof fetch;
  /**
   * The longest stream line read, in characters (default 256 Mi, half of what a JavaScript string
   * holds): a longer one fails the stream, naming the batch and the line, instead of growing
   * without bound (a proxy that drops newlines, a stream that never ends its line).
   */
  maxLineChars?: number;
}


export class RolloutServiceClient {
  private readonly fetch: typeof fetch;

  constructor(
    readonly baseUrl: string,
    private readonly options: ClientOptions = {},
  ) {
    this.fetch = options.fetch ?? fetch;
  }

  requestBatch(request: z.input<typeof BatchRequest>): Promise<BatchHandle> {
    return this.json<BatchHandle>('POST', '/v1/batches', request);
  }

  announce(announcement: z.input<typeof PolicyAnnouncement>): Promise<{ version: number; previous: number; spec: string; droppedGroups: number; cancelledGroups: number }> {
    return this.json('POST', '/v1/policy', announcement);
  }

  /** The service's figures (`GET /v1/stats`), typed by the caller. */
  stats<T = Record<string, unknown>>(): Promise<T> {
    return this.json<T>('GET', '/v1/stats');
  }

  batch(id: string): Promise<{ id: string; state: string; groups: number; served: number; message: string | null }> {
    return this.json('GET', `/v1/batches/${encodeURIComponent(id)}`);
  }

  /** The batch's lines as they arrive: groups, then `done` or `error`. Stop early with `signal`. */
  async *stream(id: string, signal?: AbortSignal): AsyncGenerator<StreamLine> {
    const response = await this.fetch(`${this.baseUrl}/v1/batches/${encodeURIComponent(id)}/stream`, { headers: this.headers(), ...(signal ? { signal } : {}) });
    if (!response.ok || !response.body) throw await refusal(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const maxChars = this.options.maxLineChars ?? MAX_LINE_CHARS;
    // The current line's pieces: each chunk is scanned once, so a long line costs its length, not its length squared.
    let pieces: string[] = [];
    let pending = 0;
    let lines = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        let start = 0;
        let newline: number;
        while ((newline = value.indexOf('\n', start)) >= 0) {
          const line = pieces.join('') + value.slice(start, newline);
          pieces = [];
          pending = 0;
          start = newline + 1;
          lines++;
          if (line.length > maxChars) throw new Error(`batch ${id}: line ${lines} of the stream is ${line.length} characters long; expected at most ${maxChars} (maxLineChars)`);
          if (line.trim() !== '') yield parseLine(id, lines, line);
        }
        if (start < value.length) {
          pieces.push(value.slice(start));
          pending += value.length - start;
          if (pending > maxChars) throw new Error(`batch ${id}: line ${lines + 1} of the stream runs past ${maxChars} characters without a newline; expected at most ${maxChars} (maxLineChars)`);
        }
      }
      const rest = pieces.join('');
      if (rest.trim() !== '') throw new Error(`batch ${id}: the stream ended inside a line (${rest.length} characters without a newline)`);
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) };
  }

  private async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw await refusal(response);
    return (await response.json()) as T;
  }
}

/** One line of a batch's stream: a JSON object, or an error naming the batch and the line (a proxy's HTML page, a cut line). */
function parseLine(batch: string, number: number, line: string): StreamLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`batch ${batch}: line ${number} of the stream is not JSON (it starts ${JSON.stringify(line.slice(0, 80))}); expected one JSON object a line`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`batch ${batch}: line ${number} of the stream is not a JSON object; expected one JSON object a line`);
  return value as StreamLine;
}

async function refusal(response: Response): Promise<ServiceRequestError> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as { error?: { field?: string | null; message?: string } };
    return new ServiceRequestError(response.status, parsed.error?.field ?? null, parsed.error?.message ?? text);
  } catch (_error) {
    return new ServiceRequestError(response.status, null, `HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
}
