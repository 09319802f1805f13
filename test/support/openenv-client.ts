// A small OpenEnv client written from the protocol description (protocols.md §1), not from our
// server: HTTP endpoints through fetch, the /ws episode channel and /mcp through `ws`. It checks
// nothing itself; tests assert on what it returns.
import { WebSocket } from 'ws';

export interface ClientOptions {
  /** Sent as `Authorization: Bearer …` on every request and upgrade. */
  token?: string;
}

export interface HttpReply {
  status: number;
  body: unknown;
}

function headers(options: ClientOptions, json: boolean): Record<string, string> {
  return { ...(json ? { 'content-type': 'application/json' } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
}

/** The HTTP endpoints: GET /health, /schema, /metadata, /state; POST /reset, /step, /mcp. */
export class OpenEnvHttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: ClientOptions = {},
  ) {}

  async get(path: string): Promise<HttpReply> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: headers(this.options, false) });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  /** `body` is sent as JSON unless it is already a string (to send malformed JSON on purpose). */
  async post(path: string, body?: unknown): Promise<HttpReply> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: headers(this.options, true),
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  health = () => this.get('/health');
  schema = () => this.get('/schema');
  metadata = () => this.get('/metadata');
  state = () => this.get('/state');
  reset = (body?: unknown) => this.post('/reset', body);
  step = (body: unknown) => this.post('/step', body);
  mcp = (request: unknown) => this.post('/mcp', request);

  /** A JSON-RPC 2.0 call on POST /mcp; the transport always answers 200 with the result or error inside. */
  async rpc(method: string, params: Record<string, unknown> = {}, id: number | string = 1): Promise<HttpReply> {
    return this.mcp({ jsonrpc: '2.0', method, params, id });
  }
}

export interface Closed {
  code: number;
  reason: string;
}

/**
 * One WebSocket connection (`/ws` for {type, data} messages, `/mcp` for raw JSON-RPC frames).
 * Frames are queued as they arrive; `next()` takes the oldest.
 */
export class OpenEnvSocket {
  private readonly frames: unknown[] = [];
  private readonly waiters: { resolve: (frame: unknown) => void; reject: (error: Error) => void }[] = [];
  private closedWith: Closed | undefined;
  readonly closed: Promise<Closed>;

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`socket closed (${code}) with no frame left`));
        resolve(this.closedWith);
      });
    });
    socket.on('message', (raw) => {
      const frame: unknown = JSON.parse(String(raw));
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(frame);
      else this.frames.push(frame);
    });
  }

  /** Connects to `http(s)://…` or `ws(s)://…` plus `path`; rejects when the upgrade is refused (e.g. 401). */
  static connect(baseUrl: string, options: ClientOptions & { path?: string } = {}): Promise<OpenEnvSocket> {
    const url = `${baseUrl.replace(/^http/, 'ws')}${options.path ?? '/ws'}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: headers(options, false) });
      const client = new OpenEnvSocket(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  next(): Promise<unknown> {
    if (this.frames.length > 0) return Promise.resolve(this.frames.shift());
    if (this.closedWith) return Promise.reject(new Error(`socket closed (${this.closedWith.code}) with no frame left`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async request(message: unknown): Promise<unknown> {
    this.send(message);
    return this.next();
  }

  reset = (data: Record<string, unknown> = {}) => this.request({ type: 'reset', data });
  /** On /ws the step's data is the action itself. */
  step = (action: Record<string, unknown>) => this.request({ type: 'step', data: action });
  state = () => this.request({ type: 'state' });

  /** Asks the server to end the session (`{"type":"close"}`) and waits for the socket to close. */
  async close(): Promise<Closed> {
    if (this.isOpen) this.send({ type: 'close' });
    return this.closed;
  }

  /** Drops the connection without a word, as a crashed client would. */
  terminate(): void {
    this.socket.terminate();
  }
}

export { waitFor } from './wait.ts';
