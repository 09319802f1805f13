// One command in a pod through the Kubernetes exec API (a WebSocket with numbered channels), with
// the output cap applied as bytes arrive and the exit code read from the status channel.
import { PassThrough, Readable, Writable } from 'node:stream';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import { errorMessage, InfraError } from '../../core/index.ts';
import { OutputBudget } from '../limits.ts';
import { k8sClient } from './client.ts';
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

/** The exit code in an exec status: Success is 0, NonZeroExitCode carries it; anything else is the API failing. */
function exitCodeOf(status: V1Status, where: string): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  if (status.reason === 'NonZeroExitCode' && Number.isInteger(code)) return code;
  throw new InfraError('sandbox', `${where}: exec failed: ${status.message ?? status.reason ?? JSON.stringify(status)}`, { kind: 'unavailable' });
}

export async function runInPod(config: KubeConfig, command: PodCommand): Promise<PodResult> {
  const { Exec } = await k8sClient();
  const where = `k8s pod ${command.namespace}/${command.pod}`;
  const budget = new OutputBudget(command.maxOutputBytes);
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  let cut: PodResult['cut'] = null;
  let finish: (reason: PodResult['cut']) => void = () => undefined;
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(budget.take(chunk));
        if (budget.truncated) finish('output');
        done();
      },
    });
  const stdin = command.stdin === undefined ? null : Readable.from([Buffer.from(command.stdin)]).pipe(new PassThrough());
  const ended = new Promise<V1Status | null>((resolve, reject) => {
    finish = (reason) => {
      cut ??= reason;
      resolve(null);
    };
    const timer = setTimeout(() => finish('deadline'), command.deadlineMs);
    const onAbort = () => finish('aborted');
    command.signal?.addEventListener('abort', onAbort, { once: true });
    new Exec(config)
      .exec(command.namespace, command.pod, CONTAINER, command.argv, sink(chunks.stdout), sink(chunks.stderr), stdin, false, (status) => {
        clearTimeout(timer);
        command.signal?.removeEventListener('abort', onAbort);
        resolve(status);
      })
      .then((socket) => {
        const close = () => socket.close();
        void ended.finally(close);
        socket.on('close', () => {
          // Closed without a status: the API server or the pod went away under us.
          clearTimeout(timer);
          if (cut === null) reject(new InfraError('sandbox', `${where}: the exec stream closed before the command's status arrived`, { kind: 'connection' }));
        });
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        reject(new InfraError('sandbox', `${where}: exec: ${errorMessage(error)}`, { kind: 'connection', cause: error }));
      });
  });
  if (command.signal?.aborted) cut = 'aborted';
  const status = await ended;
  const text = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8');
  return {
    exitCode: status ? exitCodeOf(status, where) : 137,
    stdout: text(chunks.stdout),
    stderr: text(chunks.stderr),
    truncated: budget.truncated,
    cut,
  };
}
