// One command in a pod through the Kubernetes exec API: a WebSocket with numbered channels
// (v5.channel.k8s.io). Spoken here rather than through the library's Exec, whose frame handler
// throws from inside the socket's event (the process dies) on a frame it does not expect, and
// ends the host's own stdout when a frame closes channel 1. Every frame is checked here, the
// output cap applies as bytes arrive, and the exit code comes from the status channel.
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { errorMessage, InfraError } from '../../core/index.ts';
import { OutputBudget } from '../limits.ts';
import { webSocketLibrary } from './client.ts';
import { CONTAINER } from './pod.ts';

export interface PodCommand {
  namespace: string;
  pod: string;
  argv: string[];
  stdin?: string;
  maxOutputBytes: number;
  /** When the client stops waiting (the pod's own `timeout` should have ended the command first). */
  deadlineMs: number;
  signal?: AbortSignal;
}

export interface PodResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** The client gave up: deadline, abort or output cap. */
  cut: 'deadline' | 'aborted' | 'output' | null;
}

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
/** v5: "I closed this channel" (ours: stdin). */
const CLOSE = 255;
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN_FRAME_BYTES = 32 * 1024;
/** The most of a refused upgrade's body read for its message. */
const REFUSAL_BYTES = 64 * 1024;

const ExecStatus = z.object({
  status: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  details: z.object({ causes: z.array(z.object({ reason: z.string().optional(), message: z.string().optional() }).passthrough()).optional() }).passthrough().optional(),
}).passthrough();
type ExecStatus = z.infer<typeof ExecStatus>;

/** The exit code in an exec status: Success is 0, NonZeroExitCode carries it; anything else is the API failing. */
function exitCodeOf(status: ExecStatus, where: string): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (status.reason === 'NonZeroExitCode') {
    const code = cause !== undefined && /^\d{1,3}$/.test(cause) ? Number(cause) : NaN;
    // A process's exit status is 1 to 255; anything else is not one.
    if (code >= 1 && code <= 255) return code;
    throw new InfraError('sandbox', `${where}: exec status says NonZeroExitCode with exit code ${JSON.stringify(cause ?? null)} (expected 1 to 255)`, { kind: 'malformed_response' });
  }
  throw new InfraError('sandbox', `${where}: exec failed: ${status.message ?? status.reason ?? JSON.stringify(status).slice(0, 500)}`, { kind: 'unavailable' });
}

/** The exec endpoint's URL for `command` on `server` (which may carry a path, as behind a proxy). */
function execUrl(server: string, command: PodCommand, stdin: boolean): string {
  const query = new URLSearchParams({ stdout: 'true', stderr: 'true', stdin: String(stdin), tty: 'false', container: CONTAINER });
  for (const arg of command.argv) query.append('command', arg);
  const base = server.replace(/\/+$/, '').replace(/^http/, 'ws');
  return `${base}/api/v1/namespaces/${encodeURIComponent(command.namespace)}/pods/${encodeURIComponent(command.pod)}/exec?${query}`;
}

/** The message of a refused upgrade: the Status the API sends, else the start of its body. */
function refusalMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message.slice(0, 500);
  } catch {
    // not a Status: say what it was
  }
  return body.trim().slice(0, 200) || 'no message';
}

export async function runInPod(config: KubeConfig, command: PodCommand): Promise<PodResult> {
  const { WebSocket } = await webSocketLibrary();
  const where = `k8s pod ${command.namespace}/${command.pod}`;
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new InfraError('sandbox', `${where}: exec: the kubeconfig has no current cluster`, { kind: 'unavailable', retryable: false });
  const options: Record<string, unknown> = {};
  await config.applyToHTTPSOptions(options);
  // A legitimate frame holds one read of the command's pipe (tens of KiB); one far larger is not
  // read whole, whatever the output cap (a file read may allow gigabytes in many frames).
  const maxPayload = Math.min(Math.max(command.maxOutputBytes, 1024 ** 2), 64 * 1024 ** 2) + 1;
  const budget = new OutputBudget(command.maxOutputBytes);
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const text = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8');

  return new Promise<PodResult>((resolve, reject) => {
    let opened = false;
    let settled = false;
    const socket: WebSocket = new WebSocket(execUrl(cluster.server, command, command.stdin !== undefined), PROTOCOLS, { ...options, maxPayload, perMessageDeflate: false });
    const settle = (outcome: { status: ExecStatus } | { cut: NonNullable<PodResult['cut']> } | { error: InfraError }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      command.signal?.removeEventListener('abort', onAbort);
      // Nothing more is read: drop the connection at once rather than wait on a close handshake.
      socket.terminate();
      if ('error' in outcome) return reject(outcome.error);
      let exitCode = 137;
      if ('status' in outcome) {
        try {
          exitCode = exitCodeOf(outcome.status, where);
        } catch (error) {
          return reject(error);
        }
      }
      resolve({ exitCode, stdout: text(chunks.stdout), stderr: text(chunks.stderr), truncated: budget.truncated, cut: 'cut' in outcome ? outcome.cut : null });
    };
    const malformed = (what: string) => settle({ error: new InfraError('sandbox', `${where}: exec: the API sent ${what}`, { kind: 'malformed_response' }) });
    const timer = setTimeout(() => {
      // Never opened: the API, not the command, took the time.
      if (!opened) settle({ error: new InfraError('sandbox', `${where}: exec: the stream did not open within ${command.deadlineMs} ms`, { kind: 'timeout' }) });
      else settle({ cut: 'deadline' });
    }, command.deadlineMs);
    const onAbort = () => settle({ cut: 'aborted' });
    if (command.signal?.aborted) return settle({ cut: 'aborted' });
    command.signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('unexpected-response', (request, response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      const body: Buffer[] = [];
      let size = 0;
      const refuse = () => {
        request.destroy();
        const retryable = status >= 500 || status === 429;
        settle({ error: new InfraError('sandbox', `${where}: exec refused: HTTP ${status}: ${refusalMessage(Buffer.concat(body).toString('utf8'))}`, { kind: 'http', retryable, detail: { status } }) });
      };
      response.on('data', (chunk: Buffer) => {
        if (size >= REFUSAL_BYTES) return;
        body.push(chunk);
        size += chunk.length;
        if (size >= REFUSAL_BYTES) refuse();
      });
      response.on('end', refuse);
      response.on('error', refuse);
    });
    socket.on('open', () => {
      opened = true;
      if (command.stdin === undefined) return;
      // v4 can end stdin only by closing the whole stream, and then no status comes back.
      if (socket.protocol !== 'v5.channel.k8s.io') {
        return settle({ error: new InfraError('sandbox', `${where}: exec: the API server speaks ${socket.protocol || 'no channel protocol'}, which cannot close stdin (Kubernetes 1.30 or later speaks v5.channel.k8s.io)`, { kind: 'unavailable', retryable: false }) });
      }
      const input = Buffer.from(command.stdin);
      for (let at = 0; at < input.length; at += STDIN_FRAME_BYTES) socket.send(Buffer.concat([Buffer.from([STDIN]), input.subarray(at, at + STDIN_FRAME_BYTES)]));
      socket.send(Buffer.from([CLOSE, STDIN]));
    });
    socket.on('message', (data, isBinary) => {
      if (settled) return;
      if (!isBinary) return malformed('a text frame');
      const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const channel = frame[0];
      const payload = frame.subarray(1);
      if (channel === STDOUT || channel === STDERR) {
        (channel === STDOUT ? chunks.stdout : chunks.stderr).push(budget.take(payload));
        if (budget.truncated) settle({ cut: 'output' });
      } else if (channel === STATUS) {
        let status: unknown;
        try {
          status = JSON.parse(payload.toString('utf8'));
        } catch {
          return malformed(`a status that is not JSON: ${JSON.stringify(payload.toString('utf8').slice(0, 200))}`);
        }
        const parsed = ExecStatus.safeParse(status);
        if (!parsed.success) return malformed(`a status that is not a Status object: ${JSON.stringify(status)?.slice(0, 200)}`);
        settle({ status: parsed.data });
      } else if (channel === CLOSE) {
        // The far side closed one of its channels; the status still ends the command.
      } else {
        malformed(channel === undefined ? 'an empty frame' : `a frame on channel ${channel}, which exec does not have`);
      }
    });
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return malformed(`a frame over ${maxPayload - 1} bytes`);
      settle({ error: new InfraError('sandbox', `${where}: exec: ${errorMessage(error)}`, { kind: 'connection', cause: error }) });
    });
    // Closed without a status: the API server or the pod went away under us.
    socket.on('close', (code) => settle({ error: new InfraError('sandbox', `${where}: the exec stream closed before the command's status arrived (WebSocket close ${code})`, { kind: 'connection' }) }));
  });
}
