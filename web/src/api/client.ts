// The browser's side of the review API: one method per endpoint, every response checked against
// its schema, every failure an `ApiError` that says which endpoint and what went wrong.
import type { z } from 'zod';
import {
  ErrorBody,
  Label,
  LabelReply,
  Monitoring,
  NextItem,
  Page,
  Queue,
  QueueDetail,
  QueueReply,
  Report,
  ReportEntry,
  ReviewStats,
  RolloutDetail,
  RolloutPage,
  RolloutRow,
  RunDetail,
  RunHeadline,
  SavedTask,
  StoreAccess,
  TaskValidation,
  type QueueStrategy,
  type Rubric,
  type RubricValue,
  type Verdict,
} from './schemas.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly field: string | null;
  constructor(options: { endpoint: string; status: number; message: string; field?: string | null }) {
    const where = options.field ? ` (field ${options.field})` : '';
    super(`${options.endpoint}: ${options.message}${where}`);
    this.name = 'ApiError';
    this.status = options.status;
    this.field = options.field ?? null;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export interface ApiOptions {
  /** Origin and prefix of the server; '' for the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Read on every request, so a token entered after a 401 takes effect at once. */
  token?: () => string | null;
}

export type VerdictInput = { rolloutId: string; verdict: Verdict; reason?: string; rubric?: Record<string, RubricValue>; reviewer: string; queueItemId?: string };
export type StepRatingInput = { rolloutId: string; callId: string; rating: -1 | 0 | 1; flag?: string; note?: string; reviewer: string };
export type Side = 'left' | 'right';
export type PreferenceInput = {
  taskId: string;
  leftRolloutId: string;
  rightRolloutId: string;
  shownOrder: [Side, Side];
  choice: 'A' | 'B' | 'tie';
  reason?: string;
  reviewer: string;
};
export type QueueInput = { runId: string; sample: number; strategy: QueueStrategy; reviewersPerItem: number; rubric?: Rubric };
export type ExportFormat = 'dpo' | 'kto' | 'prm';
export type ZeroSteps = 'drop' | 'negative' | 'neutral';

export class Api {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly token: () => string | null;

  constructor(options: ApiOptions = {}) {
    this.baseUrl = options.baseUrl ?? '';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.token = options.token ?? (() => null);
  }

  storeAccess(signal?: AbortSignal) {
    return this.get('/api/store', StoreAccess, signal);
  }
  listRuns(query: Query, signal?: AbortSignal) {
    return this.get(`/api/runs${queryString(query)}`, Page(RunHeadline), signal);
  }
  run(runId: string, signal?: AbortSignal) {
    return this.get(`/api/runs/${enc(runId)}`, RunDetail, signal);
  }
  rollouts(runId: string, query: Query, signal?: AbortSignal) {
    return this.get(`/api/runs/${enc(runId)}/rollouts${queryString(query)}`, RolloutPage, signal);
  }
  rollout(rolloutId: string, signal?: AbortSignal) {
    return this.get(`/api/rollouts/${enc(rolloutId)}`, RolloutDetail, signal);
  }
  siblings(rolloutId: string, signal?: AbortSignal) {
    return this.get(`/api/rollouts/${enc(rolloutId)}/siblings`, Page(RolloutRow), signal);
  }
  labels(rolloutId: string, query: Query = {}, signal?: AbortSignal) {
    return this.get(`/api/rollouts/${enc(rolloutId)}/labels${queryString(query)}`, Page(Label), signal);
  }
  async labelVerdict(input: VerdictInput) {
    return (await this.post('/api/labels/verdict', input, LabelReply)).label;
  }
  async labelStep(input: StepRatingInput) {
    return (await this.post('/api/labels/step', input, LabelReply)).label;
  }
  async labelPreference(input: PreferenceInput) {
    return (await this.post('/api/labels/preference', input, LabelReply)).label;
  }
  queues(signal?: AbortSignal) {
    return this.get('/api/queues?limit=1000', Page(Queue), signal);
  }
  queue(queueId: string, signal?: AbortSignal) {
    return this.get(`/api/queues/${enc(queueId)}`, QueueDetail, signal);
  }
  async createQueue(input: QueueInput) {
    return (await this.post('/api/queues', input, QueueReply)).queue;
  }
  nextQueueItem(queueId: string, reviewer: string) {
    return this.post(`/api/queues/${enc(queueId)}/next`, { reviewer }, NextItem);
  }
  async releaseQueueItem(queueId: string, itemId: string, reviewer: string) {
    await this.post(`/api/queues/${enc(queueId)}/items/${enc(itemId)}/release`, { reviewer }, null);
  }
  reviewStats(query: Query, signal?: AbortSignal) {
    return this.get(`/api/review-stats${queryString(withIdTexts(query))}`, ReviewStats, signal);
  }
  monitoring(query: Query, signal?: AbortSignal) {
    return this.get(`/api/monitoring${queryString(query)}`, Monitoring, signal);
  }
  reports(signal?: AbortSignal) {
    return this.get('/api/reports?limit=1000', Page(ReportEntry), signal);
  }
  /** A report with its kind; the report itself (eval, compare, robustness JSON) is shown as data. */
  report(name: string, signal?: AbortSignal) {
    return this.get(`/api/reports/${encodeURIComponent(name)}`, Report, signal);
  }
  validateTask(task: Record<string, unknown>) {
    return this.post('/api/tasks/validate', { task }, TaskValidation);
  }
  saveTask(task: Record<string, unknown>, file: string) {
    return this.post('/api/tasks', { task, file }, SavedTask);
  }
  exportLabels(query: { format: ExportFormat; zeroSteps: ZeroSteps }, signal?: AbortSignal): Promise<string> {
    const path = `/api/exports/labels${queryString(withIdTexts(query))}`;
    return this.request({ endpoint: `GET ${path}`, path, signal }).then((r) => r.text());
  }

  private async get<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
    const endpoint = `GET ${path}`;
    const response = await this.request({ endpoint, path, signal });
    return parseBody(endpoint, schema, await response.json());
  }

  private async post<S extends z.ZodType>(path: string, body: unknown, schema: S | null): Promise<z.infer<S>> {
    const endpoint = `POST ${path}`;
    const response = await this.request({ endpoint, path, method: 'POST', body });
    if (schema === null) return undefined as z.infer<S>;
    return parseBody(endpoint, schema, await response.json());
  }

  private async request(options: { endpoint: string; path: string; method?: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal | undefined }): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${options.path}`, {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError({ endpoint: options.endpoint, status: 0, message: `the server did not answer (${String(error)})` });
    }
    if (!response.ok) throw await errorFrom(options.endpoint, response);
    return response;
  }
}

/**
 * A stored id as the server reads it in a path segment or a query parameter. An id holding a lone
 * surrogate (ids are stored as given) cannot be percent-encoded, so it goes as the server's id
 * reference: `~` + unpadded base64url of its UTF-16LE code units. Ids starting with `~` go that way
 * too, since the server reads a leading `~` as a reference; every other id goes as it is.
 */
export function idText(id: string): string {
  if (!/\p{Cs}/u.test(id) && !id.startsWith('~')) return id;
  let bytes = '';
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    bytes += String.fromCharCode(unit & 0xff, unit >> 8);
  }
  return `~${btoa(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** A path segment naming a stored id. */
function enc(id: string): string {
  return encodeURIComponent(idText(id));
}

/** A query with its id parameters written as idText writes them. */
function withIdTexts(query: Query): Query {
  const out: Query = { ...query };
  for (const key of ['runId', 'queueId'] as const) {
    const value = out[key];
    if (typeof value === 'string') out[key] = idText(value);
  }
  return out;
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function parseBody<S extends z.ZodType>(endpoint: string, schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue ? issue.path.map(String).join('.') || '(body)' : '(body)';
  throw new ApiError({ endpoint, status: 200, message: `unexpected response: ${issue?.message ?? 'invalid'}`, field });
}

async function errorFrom(endpoint: string, response: Response): Promise<ApiError> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page, a crash): report the status and the first words of the text.
  }
  const parsed = ErrorBody.safeParse(body);
  if (parsed.success) return new ApiError({ endpoint, status: response.status, message: parsed.data.error.message, field: parsed.data.error.field ?? null });
  const snippet = text.trim().slice(0, 200);
  return new ApiError({ endpoint, status: response.status, message: `HTTP ${response.status}${snippet ? `: ${snippet}` : ''}` });
}
