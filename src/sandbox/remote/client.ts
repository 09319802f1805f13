// The `remote` backend: the Sandbox interface over HTTP to a `gauntlet sandbox-server`, which runs
// each command in its own local sandbox. The client holds a lease and renews it while open, so a
// client that dies leaves nothing running on the server for longer than one lease.
import { InfraError, InputError, parseInput, timerDelay, type ExecOptions, type ExecResult, type FileEntry, type ReadFileOptions, type Sandbox } from '../../core/index.ts';
import { redactUrl } from '../../model/secrets.ts';
import { FileTooLargeError, readBound } from '../files.ts';
import { DEFAULT_LIMITS, type SandboxLimits } from '../limits.ts';
import { isTokenRefusal, MAX_REPLY_BYTES, RemoteAborted, SandboxConnection, type FetchLike } from './http.ts';
import { bearerTokenProblem, REMOTE_TOKEN_VARIABLE, CreateRequest, CreateResponse, ExecResponse, fromBase64, HealthResponse, HeartbeatResponse, ListResponse, ReadResponse, toBase64, type ExecRequest } from './protocol.ts';

export interface RemoteSandboxOptions {
  /** The server's base URL, `http://host:port`. */
  url: string;
  /** Bearer token, needed when the server is bound beyond loopback. */
  token?: string;
  files?: Record<string, string>;
  limits?: SandboxLimits;
  workdir?: string;
  /** Injected in tests; default the global fetch. */
  fetch?: FetchLike;
  /** How often the lease is renewed; default a third of the server's TTL. */
  heartbeatMs?: number;
  /** Time allowed beyond a command's own timeout for the network and the server's queue. Default 30 s. */
  requestSlackMs?: number;
  /** Limit for requests other than exec. Default 30 s. */
  requestTimeoutMs?: number;
}

/** Where the `remote` backend finds its server when `createSandbox` is given no options for it. */
export const REMOTE_URL_VARIABLE = 'GAUNTLET_SANDBOX_URL';
export { REMOTE_TOKEN_VARIABLE };

/** The server and token from the environment variables; InputError when the URL is missing or not http(s). */
export function remoteServerFromEnv(env: NodeJS.ProcessEnv): { url: string; token?: string } {
  const url = env[REMOTE_URL_VARIABLE];
  if (url === undefined || url.trim() === '') {
    throw new InputError(REMOTE_URL_VARIABLE, 'is not set, and the remote sandbox backend needs a server', 'the URL of a running `gauntlet sandbox-server`, such as http://10.0.0.5:7070');
  }
  checkUrl(url, REMOTE_URL_VARIABLE);
  const token = env[REMOTE_TOKEN_VARIABLE];
  if (token !== undefined && token.trim() === '') throw new InputError(REMOTE_TOKEN_VARIABLE, 'is set but empty', 'a non-empty secret, or unset it');
  const problem = token === undefined ? null : bearerTokenProblem(token);
  if (problem !== null) throw new InputError(REMOTE_TOKEN_VARIABLE, problem, 'the token the sandbox server was started with');
  return { url, ...(token !== undefined ? { token } : {}) };
}

function checkUrl(url: string, where: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(where, `${JSON.stringify(redactUrl(url))} is not a URL`, 'an http(s) URL such as http://127.0.0.1:7070');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InputError(where, `${JSON.stringify(redactUrl(url))} is not http(s)`, 'an http(s) URL such as http://127.0.0.1:7070');
  // Every error names the server's URL, and fetch refuses one with credentials anyway. An '@' in
  // the path is user info whose password holds a '/' (not percent-encoded): refused alike.
  if (parsed.username || parsed.password || parsed.pathname.includes('@')) {
    const shown = parsed.pathname.includes('@') ? `${parsed.protocol}//***@${parsed.pathname.slice(parsed.pathname.lastIndexOf('@') + 1)}` : redactUrl(url);
    throw new InputError(where, `${JSON.stringify(shown)} carries user info (user:password@), which would be repeated in every error`, `the URL without it, and the server's token in ${REMOTE_TOKEN_VARIABLE}`);
  }
}

class RemoteSandbox implements Sandbox {
  readonly specificationVersion = 'v1' as const;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  /** Why the last heartbeat failed; said again if a later call fails. */
  private heartbeatProblem: string | undefined;
  /**
   * Execs sent and not yet answered, and the latest time (epoch ms) the last of them may end. A
   * persistent sandbox runs one command at a time: a command sent while others run waits for them
   * on the server, and its request is given that wait too, else it would fail as timed out while
   * still queued (a local sandbox just waits).
   */
  private inFlight = 0;
  private busyUntil = 0;

  constructor(
    private readonly connection: SandboxConnection,
    private readonly created: CreateResponse,
    private readonly settings: { heartbeatMs: number; requestSlackMs: number; requestTimeoutMs: number; commandCapMs: number; maxOutputBytes: number; maxReadBytes: number },
  ) {
    this.heartbeat = setInterval(() => void this.renew(), settings.heartbeatMs);
    // A forgotten sandbox must not keep the process alive; the server reaps it after its lease.
    this.heartbeat.unref();
  }

  get backend(): Sandbox['backend'] {
    return this.created.backend;
  }

  get workdir(): string {
    return this.created.workdir;
  }

  /** The server's id for this sandbox. */
  get id(): string {
    return this.created.id;
  }

  private path(suffix = ''): string {
    return `/sandboxes/${this.created.id}${suffix}`;
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connection.request({ method: 'POST', path: this.path('/heartbeat'), response: HeartbeatResponse, timeoutMs: this.settings.requestTimeoutMs });
      this.heartbeatProblem = undefined;
    } catch (error) {
      this.heartbeatProblem = error instanceof Error ? error.message : String(error);
    }
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`sandbox ${operation}: the sandbox is closed`);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      // Infrastructure failures only: a SandboxPathError's message is shown to the agent, which must
      // not see (or be scored on) the state of our heartbeats or the server's URL.
      if (error instanceof InfraError && this.heartbeatProblem !== undefined && !error.message.includes('heartbeat')) {
        error.message += ` (last heartbeat failed: ${this.heartbeatProblem})`;
      }
      throw error;
    }
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    const own = options.timeoutMs > 0 && Number.isFinite(options.timeoutMs);
    const body: ExecRequest = {
      command,
      ...(own ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
    };
    const started = Date.now();
    this.busyUntil = Math.max(started, this.busyUntil) + Math.min(body.timeoutMs ?? Infinity, this.settings.commandCapMs) + this.settings.requestSlackMs;
    this.inFlight++;
    try {
      return await this.call(() =>
        this.connection.request({
          method: 'POST',
          path: this.path('/exec'),
          body,
          response: ExecResponse,
          timeoutMs: this.busyUntil - started,
          maxReplyBytes: execReplyBytes(this.settings.maxOutputBytes),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
    } catch (error) {
      // As a local sandbox does: an aborted command ends with 130 (the server kills it when the request goes away).
      if (error instanceof RemoteAborted) return { exitCode: 130, stdout: '', stderr: 'sandbox: the command was aborted\n', timedOut: false, truncated: false, durationMs: Date.now() - started };
      throw error;
    } finally {
      if (--this.inFlight === 0) this.busyUntil = 0;
    }
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<string | null> {
    this.assertOpen('readFile');
    const maxBytes = readBound(options);
    // The caller's bound, where it is the tighter, bounds the reply read: no more of a larger file comes.
    const bounded = maxBytes !== undefined && maxBytes < this.settings.maxReadBytes;
    const reply = await this.call(() =>
      this.connection.request({
        method: 'POST',
        path: this.path('/files/read'),
        body: { path },
        response: ReadResponse,
        timeoutMs: this.settings.requestTimeoutMs,
        maxReplyBytes: readReplyBytes(bounded ? maxBytes : this.settings.maxReadBytes),
        ...(bounded ? { overBound: () => new FileTooLargeError(path, maxBytes) } : {}),
      }),
    );
    if (reply.content === null) return null;
    if (maxBytes === undefined) return fromBase64(reply.content);
    const bytes = Buffer.from(reply.content, 'base64');
    if (bytes.length > maxBytes) throw new FileTooLargeError(path, maxBytes, bytes.length);
    return bytes.toString('utf8');
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.assertOpen('writeFile');
    await this.call(() => this.connection.request({ method: 'PUT', path: this.path('/files/write'), body: { path, content: toBase64(content) }, response: null, timeoutMs: this.settings.requestTimeoutMs }));
  }

  async listFiles(): Promise<FileEntry[]> {
    this.assertOpen('listFiles');
    // Bounded by the files the disk holds (and by V8's longest string), not by a figure of ours.
    const reply = await this.call(() => this.connection.request({ method: 'GET', path: this.path('/files'), response: ListResponse, timeoutMs: this.settings.requestTimeoutMs, maxReplyBytes: MAX_REPLY_BYTES }));
    return reply.files;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    // Already reaped is as good as closed; any other failure is the lease's to clean up, and said.
    await this.connection.request({ method: 'DELETE', path: this.path(), response: null, timeoutMs: this.settings.requestTimeoutMs }).catch((error: unknown) => {
      if (error instanceof Error && 'detail' in error && (error.detail as { code?: string } | undefined)?.code === 'not_found') return;
      throw error;
    });
  }
}

/**
 * What a sandbox server offers (its backend, protocol, room), for checks before a run starts: a
 * task that needs a process sandbox needs a server whose backend is bwrap. Throws InfraError('sandbox'),
 * or InputError naming ${REMOTE_TOKEN_VARIABLE} when the server refuses the token: it answered, and the setting is what to fix.
 */
export async function probeRemoteSandbox(server: { url: string; token?: string }, options: { fetch?: FetchLike; timeoutMs?: number } = {}): Promise<HealthResponse> {
  checkUrl(server.url, 'remote sandbox url');
  const connection = new SandboxConnection(server.url, server.token, options.fetch ?? ((input, init) => fetch(input, init)));
  try {
    return await connection.request({ method: 'GET', path: '/health', response: HealthResponse, timeoutMs: options.timeoutMs ?? 10_000 });
  } catch (error) {
    if (error instanceof InfraError && isTokenRefusal(error)) throw new InputError(REMOTE_TOKEN_VARIABLE, error.message);
    throw error;
  }
}

/** Creates a sandbox on a `gauntlet sandbox-server`; throws InfraError('sandbox') when the server cannot. */
/**
 * Three heartbeats a lease, at most one every 50 ms. Clamped to what a timer can wait: a lease of
 * months (or a server naming one) would otherwise overflow the interval into a heartbeat every 1 ms.
 */
export function heartbeatInterval(ttlMs: number): number {
  return timerDelay(Math.max(50, Math.floor(ttlMs / 3)));
}

/**
 * The most an exec reply can hold: the output cap is shared by stdout and stderr, and JSON writes a
 * byte of output as at most six characters (`\u0000`); the rest of the reply is small.
 */
export function execReplyBytes(maxOutputBytes: number): number {
  return 6 * maxOutputBytes + 64 * 1024;
}

/** The most a read reply can hold: `{"content":"<base64>"}` for `maxReadBytes` of content. */
export function readReplyBytes(maxReadBytes: number): number {
  return Math.min(MAX_REPLY_BYTES, 4 * Math.ceil(maxReadBytes / 3) + 64 * 1024);
}

/**
 * The largest file content a read of this sandbox can bring back: what the server says it answers
 * (a server of before that field says nothing), and in any case what its disk can hold, three times
 * over, since a byte that is not UTF-8 comes back as U+FFFD (three bytes). A file written from
 * outside is at most a request body (64 MiB by default) whatever the disk.
 */
export function readContentBytes(diskBytes: number, serverMax: number | undefined): number {
  return Math.min(serverMax ?? Infinity, 3 * Math.max(diskBytes, 64 * 1024 ** 2));
}

export async function createRemoteSandbox(options: RemoteSandboxOptions): Promise<Sandbox & { readonly id: string }> {
  checkUrl(options.url, 'remote sandbox url');
  const connection = new SandboxConnection(options.url, options.token, options.fetch ?? ((input, init) => fetch(input, init)));
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const body = parseInput(CreateRequest, {
    limits: options.limits ?? {},
    files: Object.fromEntries(Object.entries(options.files ?? {}).map(([path, content]) => [path, toBase64(content)])),
    ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
  }, 'remote sandbox');
  const created = await connection.request({ method: 'POST', path: '/sandboxes', body, response: CreateResponse, timeoutMs: requestTimeoutMs });
  const heartbeatMs = options.heartbeatMs ?? heartbeatInterval(created.lease.ttlMs);
  const commandCapMs = options.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  // The server may lower a default to its ceiling, never raise what was asked: this bounds its output.
  const maxOutputBytes = options.limits?.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes;
  const maxReadBytes = readContentBytes(options.limits?.diskBytes ?? DEFAULT_LIMITS.diskBytes, created.maxReadBytes);
  return new RemoteSandbox(connection, created, { heartbeatMs, requestSlackMs: options.requestSlackMs ?? 30_000, requestTimeoutMs, commandCapMs, maxOutputBytes, maxReadBytes });
}
