import { InputError, type ModelClient } from '../../core/index.ts';
import { parseModelSpec } from '../../model/index.ts';

// Which policy version serves new model calls, and where. A trainer announces versions; each call
// is routed to the endpoint current when it is sent and tagged with that endpoint's version, so a
// rollout that runs across an announcement records each call's true producer.

export interface PolicyEndpoint {
  version: number;
  /** OpenAI-compatible base URL ending in /v1. */
  baseUrl: string;
  model: string;
  /** `openai:BASE_URL#MODEL`, as stored on each call it served. */
  spec: string;
  client: ModelClient;
  announcedAt: string;
}

/** Builds a client for an endpoint (tests inject `fetch` here). */
export type ConnectEndpoint = (endpoint: { spec: string }) => Promise<ModelClient>;

/** The spec of an OpenAI-compatible endpoint, checked as `--model` is (URL ending in /v1, no credentials). */
export function endpointSpec(baseUrl: string, model: string, where: string): string {
  // The spec splits at its first `#`: a fragment in the URL would silently become part of the model name.
  if (baseUrl.includes('#')) throw new InputError(where, `the base URL ${JSON.stringify(baseUrl)} has a #fragment, which would be read as the start of the model name`, 'a URL ending in /v1, without #');
  const spec = `openai:${baseUrl}#${model}`;
  try {
    const parsed = parseModelSpec(spec);
    if (parsed.kind !== 'openai') throw new InputError(where, `"${spec}" is not an OpenAI-compatible endpoint`);
    return `openai:${parsed.baseUrl}#${parsed.model}`;
  } catch (error) {
    throw error instanceof InputError ? error.at(where) : error;
  }
}

/**
 * Announced versions `announced()` lists, the latest last. A trainer may announce a version every
 * step for weeks: the session keeps this many and counts the rest (`announcements`).
 */
export const POLICY_HISTORY_KEPT = 1000;

export class PolicyEndpoints {
  /** The last `POLICY_HISTORY_KEPT` announced versions, without clients: a client is kept only while it can still be called. */
  private readonly history: Omit<PolicyEndpoint, 'client'>[];
  private count = 1;
  private latest: PolicyEndpoint;
  /** Calls in flight per client. A superseded client is closed and let go when its last call ends. */
  private readonly calls = new Map<ModelClient, number>();

  constructor(initial: PolicyEndpoint) {
    this.latest = initial;
    this.history = [withoutClient(initial)];
  }

  get current(): PolicyEndpoint {
    return this.latest;
  }

  /** The last `POLICY_HISTORY_KEPT` announced versions, oldest first (without clients). */
  announced(): Omit<PolicyEndpoint, 'client'>[] {
    return [...this.history];
  }

  /** Versions announced in all, the initial one included. */
  get announcements(): number {
    return this.count;
  }

  /** Makes `next` current; versions only move forward (checked by the caller, asserted here). */
  advance(next: PolicyEndpoint): void {
    if (next.version <= this.latest.version) throw new Error(`policy version ${next.version} announced after ${this.latest.version}`);
    const previous = this.latest.client;
    this.latest = next;
    this.history.push(withoutClient(next));
    this.count++;
    if (this.history.length > POLICY_HISTORY_KEPT) this.history.shift();
    // A trainer that moves to a new endpoint every step would otherwise keep a client per step for the whole session.
    this.closeIfIdle(previous);
  }

  /** Runs one call on `endpoint`'s client, counted so the client is not closed under it. */
  async call<T>(endpoint: PolicyEndpoint, send: (client: ModelClient) => Promise<T>): Promise<T> {
    const client = endpoint.client;
    this.calls.set(client, (this.calls.get(client) ?? 0) + 1);
    try {
      return await send(client);
    } finally {
      const left = (this.calls.get(client) ?? 1) - 1;
      if (left > 0) this.calls.set(client, left);
      else this.calls.delete(client);
      this.closeIfIdle(client);
    }
  }

  /** Clients held now: the current one and superseded ones with calls in flight. */
  openClients(): number {
    return new Set([this.latest.client, ...this.calls.keys()]).size;
  }

  private closeIfIdle(client: ModelClient): void {
    if (client === this.latest.client || this.calls.has(client)) return;
    void client.close?.().catch(() => undefined);
  }

  async close(): Promise<void> {
    const clients = new Set([this.latest.client, ...this.calls.keys()]);
    await Promise.all([...clients].map((c) => c.close?.()));
  }
}

function withoutClient({ client: _client, ...rest }: PolicyEndpoint): Omit<PolicyEndpoint, 'client'> {
  return rest;
}

/** A model client for one rollout attempt that sends each call to the current endpoint. */
export interface RoutedModel extends ModelClient {
  /** The version that served this attempt's latest call (read by the agent loop right after each call). */
  readonly lastVersion: number | undefined;
}

/**
 * Calls within one rollout are sequential, so the version of the latest call is the version of
 * the call the loop is recording: the loop reads it after each call completes, and it names the
 * endpoint that call went to even if a newer version was announced while it ran.
 */
export function routedModel(endpoints: PolicyEndpoints, onCall: (version: number) => void): RoutedModel {
  let last: PolicyEndpoint | undefined;
  return {
    specificationVersion: 'v1',
    get spec() {
      return (last ?? endpoints.current).spec;
    },
    get lastVersion() {
      return last?.version;
    },
    complete(request, options) {
      const target = endpoints.current;
      last = target;
      onCall(target.version);
      return endpoints.call(target, (client) => client.complete(request, options));
    },
  };
}
