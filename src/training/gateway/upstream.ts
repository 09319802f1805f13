// The inference server behind the gateway: its URLs, the credentials sent to it, which engine it
// is (vLLM and SGLang name their token fields differently), and plain forwarding of the routes the
// gateway does not interpret.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../core/index.ts';
import { checkBaseUrl, DEFAULT_MAX_RESPONSE_BYTES, isScrubbed, redactUrl } from '../../model/index.ts';
import type { EngineKind } from './capture.ts';
import { GatewayError, readBytes, RECORDED_HEADER } from './http.ts';
import { StreamScrubber } from './redact.ts';
import { fetchTransport, nodeTransport, UpstreamSilent, type Transport, type UpstreamRequest, type UpstreamResponse } from './transport.ts';

export { UpstreamSilent } from './transport.ts';

export type EngineSetting = EngineKind | 'auto';

export interface EngineInfo {
  configured: EngineSetting;
  /** null until an `auto` gateway has asked the upstream. */
  resolved: EngineKind | null;
  /** How `auto` decided, in words. */
  basis: string;
}

/** Request headers never forwarded: hop-by-hop, length (bodies are re-encoded), and the gateway's own. */
const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect']);

export interface UpstreamOptions {
  baseUrl: string;
  fetch?: typeof fetch | undefined;
  apiKey?: string | undefined;
  engine: EngineSetting;
  maxResponseBytes?: number | undefined;
  /** No byte from the upstream for this long (milliseconds) ends the call as a time-out; 0 or absent: never. */
  silenceMs?: number | undefined;
}

export class Upstream {
  readonly baseUrl: string;
  private detected: Promise<EngineKind> | undefined;
  private info: EngineInfo;
  private readonly transport: Transport;
  private readonly closeTransport: () => void;

  /** The most bytes of one answer the gateway holds (a whole body, or a stream it records). */
  readonly maxResponseBytes: number;
  /** How long the upstream may send nothing (before its headers, or between body pieces); 0: forever. */
  private readonly silenceMs: number;

  /** `fetch` replaces the built-in node:http transport (tests, custom networking). */
  constructor(private readonly options: UpstreamOptions) {
    this.baseUrl = checkBaseUrl(options.baseUrl, { where: 'gateway upstream', envVar: 'GAUNTLET_UPSTREAM_API_KEY' });
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.silenceMs = options.silenceMs ?? 0;
    this.info = options.engine === 'auto' ? { configured: 'auto', resolved: null, basis: 'not asked yet' } : { configured: options.engine, resolved: options.engine, basis: 'configured' };
    if (options.fetch) {
      this.transport = fetchTransport(options.fetch);
      this.closeTransport = () => {};
    } else {
      const node = nodeTransport();
      this.transport = node;
      this.closeTransport = () => node.close();
    }
  }

  /**
   * Sends a request to `path` under the base URL. An upstream silent for `silenceMs` (no headers,
   * or no body piece since the last) is hung up on: the request rejects with UpstreamSilent, or the
   * answer's reading fails and its `endedBySilence()` says why.
   */
  send(path: string, request: UpstreamRequest): Promise<UpstreamResponse> {
    return this.transport(this.url(path), this.silenceMs > 0 ? { ...request, silenceMs: this.silenceMs } : request);
  }

  close(): void {
    this.closeTransport();
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  describe(): string {
    return redactUrl(this.baseUrl);
  }

  engineInfo(): EngineInfo {
    return { ...this.info };
  }

  /**
   * The credentials for the upstream: the gateway's own key when it has one, else whatever the
   * client sent (Bearer, or Anthropic's x-api-key as a Bearer token). Never recorded.
   */
  authorization(req: IncomingMessage): Record<string, string> {
    if (this.options.apiKey) return { authorization: `Bearer ${this.options.apiKey}` };
    const bearer = req.headers.authorization;
    if (typeof bearer === 'string' && bearer !== '') return { authorization: bearer };
    const key = req.headers['x-api-key'];
    return typeof key === 'string' && key !== '' ? { authorization: `Bearer ${key}` } : {};
  }

  /** The key `authorization` sends upstream (without `Bearer `), for scrubbing what the gateway records. */
  credential(req: IncomingMessage): string | undefined {
    const header = this.authorization(req).authorization;
    return header === undefined ? undefined : header.replace(/^Bearer\s+/i, '');
  }

  /**
   * The gateway's own key, which its clients must never see in what it relays to them; undefined
   * when the client brought its own credentials (nothing to hide from it) or the key is too short
   * to be one (see MIN_SECRET_LENGTH).
   */
  hiddenKey(): string | undefined {
    return isScrubbed(this.options.apiKey) ? this.options.apiKey : undefined;
  }

  /** The engine whose token fields to ask for; `auto` asks the upstream's `/models` once (its `owned_by`). */
  engine(): Promise<EngineKind> {
    if (this.info.resolved) return Promise.resolve(this.info.resolved);
    this.detected ??= this.detect().catch((error: unknown) => {
      // Not remembered: the upstream may come up later.
      this.detected = undefined;
      throw error;
    });
    return this.detected;
  }

  private async detect(): Promise<EngineKind> {
    const url = this.url('/models');
    const unknown = (why: string): GatewayError => new GatewayError(502, `the gateway could not tell which engine serves ${redactUrl(url)} (${why}); bring the upstream up, or start the gateway with engine vllm or sglang`);
    let text: string;
    let status: number;
    try {
      const response = await this.send('/models', { method: 'GET', headers: this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}, signal: AbortSignal.timeout(30_000) });
      status = response.status;
      text = await response.text(this.maxResponseBytes);
    } catch (error) {
      throw unknown(describeFetchError(error));
    }
    // An upstream not up yet (a proxy in front of an engine still loading) says nothing about the engine: asked again later.
    if (status >= 500 || status === 408 || status === 429) throw unknown(`GET /models answered HTTP ${status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (_error) {
      // JSON.parse's message quotes the text, which may hold the key the upstream echoed: not passed on.
      throw unknown(`it answered HTTP ${status} with a body that is not JSON`);
    }
    const owner = (body as { data?: { owned_by?: unknown }[] } | null)?.data?.[0]?.owned_by;
    const resolved: EngineKind = owner === 'sglang' ? 'sglang' : 'vllm';
    const basis = owner === 'vllm' || owner === 'sglang' ? `GET /models says owned_by "${owner}"` : `GET /models says owned_by ${JSON.stringify(owner ?? null)}, not vllm or sglang: vLLM's request fields are used (engines that do not know them ignore them, and report no ids)`;
    this.info = { configured: 'auto', resolved, basis };
    return resolved;
  }

  /** Forwards a request the gateway does not interpret (`GET /v1/models`, …) and streams the answer back as it is. */
  async forward(req: IncomingMessage, res: ServerResponse, path: string, signal: AbortSignal): Promise<void> {
    const escape = dotSegment(path);
    if (escape !== null) {
      throw new GatewayError(400, `the path /v1${path.split('?')[0]} has a ${JSON.stringify(escape)} segment; the gateway forwards only paths under the upstream's /v1 as written`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !NOT_FORWARDED.has(name) && name !== 'authorization' && name !== 'x-api-key' && !name.startsWith('x-gauntlet-')) headers[name] = value;
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const body = hasBody ? await readBytes(req) : undefined;
    let response: UpstreamResponse;
    try {
      response = await this.send(path, { method: req.method ?? 'GET', headers: { ...headers, ...this.authorization(req) }, ...(body ? { body } : {}), signal });
    } catch (error) {
      if (error instanceof UpstreamSilent) throw new GatewayError(504, error.at('before answering'));
      throw new GatewayError(502, `the upstream ${this.describe()} could not be reached (${describeFetchError(error)})`);
    }
    const out: Record<string, string> = { [RECORDED_HEADER]: 'false' };
    const type = response.header('content-type');
    if (type) out['content-type'] = type;
    res.writeHead(response.status, out);
    const key = this.hiddenKey();
    const scrubber = key === undefined ? null : new StreamScrubber(key);
    try {
      for await (const piece of response.pieces()) res.write(scrubber ? scrubber.push(piece) : piece);
      res.end(scrubber?.end());
    } catch (_error) {
      // The upstream broke off: so does the answer, as it would have without the gateway.
      res.destroy();
    }
  }
}

/**
 * The first `.` or `..` segment of a path (also spelled %2e, or after a backslash, which URLs read
 * as a slash), else null. The upstream URL resolves them, so `/v1/../sleep` would reach the
 * engine's own admin routes (weights, sleep, cache) past the /v1 the gateway was told to expose.
 */
function dotSegment(path: string): string | null {
  for (const segment of (path.split('?')[0] ?? '').split(/[/\\]/)) {
    const dots = segment.replace(/%2e/gi, '.');
    if (dots === '.' || dots === '..') return segment;
  }
  return null;
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED …) is in `cause`. */
export function describeFetchError(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? `: ${errorMessage(error.cause)}` : '';
  return `${errorMessage(error)}${cause}`;
}
