// The Kubernetes API client the k8s backend uses, bounded: the library's own HTTP layer waits for
// an answer forever and reads any answer whole, so an API server (or a proxy in front of it) that
// stalls would hang a sandbox for good and one that answers gigabytes would fill the host's memory.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { errorMessage, InfraError, type FailureKind } from '../../core/index.ts';
import { k8sClient } from './client.ts';

export interface ApiBounds {
  /** How long one API request may take, answer included. */
  timeoutMs: number;
  /** The largest answer read. */
  maxBytes: number;
}

export const DEFAULT_API_BOUNDS: ApiBounds = { timeoutMs: 30_000, maxBytes: 16 * 1024 ** 2 };

/** A request that got no usable answer: no answer in time, or one too large. */
class ApiTransportError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
  }
}

/** The HTTP status of an API error, if it got that far. */
export const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** An API failure as the sandbox's InfraError: retryable unless the API refused with a 4xx other than 429. */
export function apiError(where: string, error: unknown): InfraError {
  if (error instanceof InfraError) return error;
  const status = statusOf(error);
  // A SyntaxError is a JSON answer cut off or garbled on the way.
  const kind: FailureKind = error instanceof ApiTransportError ? error.kind : status !== undefined ? 'http' : error instanceof SyntaxError ? 'malformed_response' : 'connection';
  return new InfraError('sandbox', `${where}: ${errorMessage(error)}`, { kind, retryable: status === undefined || status >= 500 || status === 429, ...(status !== undefined ? { detail: { status } } : {}), cause: error });
}

/** The CoreV1 API of `config`'s cluster, every request bounded by `bounds`. */
export async function coreApi(config: KubeConfig, bounds: ApiBounds = DEFAULT_API_BOUNDS): Promise<CoreV1Api> {
  const k8s = await k8sClient();
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const httpApi = k8s.wrapHttpLibrary({
    send: (context) =>
      new Promise((resolve, reject) => {
        const url = new URL(context.getUrl());
        const agent = context.getAgent() as Agent | undefined;
        const given = context.getBody();
        const body = typeof given === 'string' || Buffer.isBuffer(given) ? given : undefined;
        // Node sends no length of its own for a DELETE's body (the precondition of a reap).
        const headers = { ...context.getHeaders(), ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) };
        const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: context.getHttpMethod(), headers, ...(agent ? { agent } : {}) });
        const timer = setTimeout(() => request.destroy(new ApiTransportError(`no answer within ${bounds.timeoutMs} ms`, 'timeout')), bounds.timeoutMs);
        const fail = (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        };
        request.on('error', fail);
        request.on('response', (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > bounds.maxBytes) return void request.destroy(new ApiTransportError(`the answer (HTTP ${response.statusCode}) is over ${bounds.maxBytes} bytes`, 'output_too_large'));
            chunks.push(chunk);
          });
          response.on('error', fail);
          response.on('end', () => {
            clearTimeout(timer);
            const body = Buffer.concat(chunks);
            // Every endpoint used answers JSON; a success in anything else (a proxy's sign-in page)
            // would otherwise be read as an empty object.
            const type = response.headers['content-type'] ?? '';
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300 && !/json/i.test(type)) {
              return reject(new ApiTransportError(`the answer (HTTP ${status}) is ${JSON.stringify(type || 'of no content type')}, not JSON: ${JSON.stringify(body.subarray(0, 200).toString('utf8'))}`, 'malformed_response'));
            }
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
            resolve(new k8s.ResponseContext(status, headers, { text: () => Promise.resolve(body.toString('utf8')), binary: () => Promise.resolve(body) }));
          });
        });
        request.end(body);
      }),
  });
  return new k8s.CoreV1Api(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: config }, httpApi }));
}
