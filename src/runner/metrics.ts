// Prometheus metrics for long-running processes (`run`, `worker`, `serve-rollouts`). Every count
// comes from rollout events (RolloutEvent) and each finished rollout's own record (`stats`,
// `status`, `terminationReason`), so the figures are the same whether a rollout ran in this
// process, on a rollout thread or on a queue worker. prom-client is loaded only when metrics are
// asked for: most commands never pay for it. Labels stay low-cardinality: environment, status,
// termination reason, error source; never task, rollout or run ids, nor model URLs.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type * as PromClient from 'prom-client';
import { browserRefusal, hasBearerToken, InputError, isLoopbackHost, recordedSpend, type AttemptsSpend, type Rollout } from '../core/index.ts';
import type { WorkerEvent } from './queue/worker.ts';
import type { RolloutEvent } from './rollout.ts';
import type { RunProgress } from './run.ts';

let loaded: Promise<typeof PromClient> | undefined;

/** prom-client, imported on first use. */
export function promClient(): Promise<typeof PromClient> {
  loaded ??= import('prom-client');
  return loaded;
}

/** Seconds, from 1 s to an hour: agentic rollouts run for seconds to tens of minutes. */
export const ROLLOUT_DURATION_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** Which process the metrics describe: each adds its own figures to the shared rollout ones. */
export type MetricsRole = 'run' | 'worker' | 'service';

export interface MetricsScrape {
  contentType: string;
  body: string;
}

/** Its functions may be passed on detached (they use no `this`). */
export interface GauntletMetrics {
  /** Feed for `onRollout` (executeRun, executeQueuedRun, startWorker, the rollout service). */
  onRollout: (event: RolloutEvent) => void;
  /** Feed for `onProgress` (run only; ignored elsewhere). */
  onProgress: (progress: RunProgress) => void;
  /** Feed for a worker's `onEvent` (worker only; ignored elsewhere). */
  onWorkerEvent: (event: WorkerEvent) => void;
  /** The registry in Prometheus' text format. */
  scrape: () => Promise<MetricsScrape>;
}

/** A registry of this process's own (with prom-client's process metrics: CPU, memory, heap, event-loop lag, GC). */
export async function createMetrics(role: MetricsRole): Promise<GauntletMetrics> {
  const prom = await promClient();
  const registry = new prom.Registry();
  const registers = [registry];
  prom.collectDefaultMetrics({ register: registry });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new prom.Counter({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new prom.Gauge({ name, help, labelNames, registers });

  const finished = counter('gauntlet_rollouts_finished_total', 'Rollouts finished with a final record (stored by a run, or sent by a worker), by environment, status and termination reason', ['env', 'status', 'termination_reason']);
  const passed = counter('gauntlet_rollouts_passed_total', 'Scored rollouts that passed, by environment (infra errors and defects are never scored)', ['env']);
  const inFlight = gauge('gauntlet_rollouts_in_flight', 'Rollouts running in this process now, by environment', ['env']);
  const infraErrors = counter('gauntlet_infra_errors_total', 'Rollouts that ended as infra_error (never scored), by the failing part', ['source']);
  const duration = new prom.Histogram({ name: 'gauntlet_rollout_duration_seconds', help: 'Wall-clock time of finished rollouts (the final attempt), by environment and status', labelNames: ['env', 'status'], buckets: ROLLOUT_DURATION_BUCKETS, registers });
  const modelCalls = counter('gauntlet_model_calls_total', 'Model calls made by finished rollouts, every attempt included, by environment', ['env']);
  const toolCalls = counter('gauntlet_tool_calls_total', 'Tool calls made by finished rollouts, every attempt included, by environment', ['env']);
  const toolErrors = counter('gauntlet_tool_errors_total', 'Tool calls of finished rollouts (their final attempt) that returned an error, by environment', ['env']);
  const promptTokens = counter('gauntlet_prompt_tokens_total', 'Prompt tokens of finished rollouts, every attempt included, by environment', ['env']);
  const completionTokens = counter('gauntlet_completion_tokens_total', 'Completion tokens of finished rollouts, every attempt included, by environment', ['env']);

  const expected = role === 'run' ? gauge('gauntlet_run_rollouts_expected', 'Rollouts the run holds in all (tasks × epochs)') : null;
  const done = role === 'run' ? gauge('gauntlet_run_rollouts_done', 'Rollouts of the run stored so far (a resumed run counts those stored before)') : null;
  const claimed = role === 'worker' ? counter('gauntlet_worker_rollouts_claimed_total', 'Rollout jobs this worker took from a queue') : null;
  const completed = role === 'worker' ? counter('gauntlet_worker_rollouts_completed_total', 'Rollouts this worker ran and sent to their run') : null;
  const jobsFailed = role === 'worker' ? counter('gauntlet_worker_jobs_failed_total', 'Rollout jobs this worker could not complete; final="true" when no try is left', ['final']) : null;
  const handedBack = role === 'worker' ? counter('gauntlet_worker_rollouts_handed_back_total', 'Running rollouts this worker put back in the queue as it stopped') : null;

  const count = (rollout: Rollout, replaced: AttemptsSpend | undefined): void => {
    const { env, status, stats } = rollout;
    finished.inc({ env, status, termination_reason: rollout.terminationReason });
    // Only a scored rollout can pass: an infra error stays an infra error, whatever `passed` holds.
    if (status === 'scored' && rollout.passed === true) passed.inc({ env });
    if (status === 'infra_error') infraErrors.inc({ source: rollout.error?.source ?? 'unknown' });
    duration.observe({ env, status }, rollout.durationMs / 1000);
    // Calls and tokens of every attempt (`spent`), retried ones included, where the record says;
    // a record without it (an older Gauntlet's worker) gives its last attempt's. An earlier
    // process's attempts in `spent` are counted here: counters count a rollout when it finishes,
    // so a process killed mid-rollout counted none of its attempts (and its counters died with
    // it). The attempts of an infra_error record that a resume replaces were counted when that
    // record finished: only what the new record adds to them is counted here (never below 0: a
    // counter cannot go down, and a dead queue worker's saved spend may exceed what it stored).
    const spent = recordedSpend(rollout);
    const added = (field: keyof AttemptsSpend) => Math.max(0, spent[field] - (replaced?.[field] ?? 0));
    modelCalls.inc({ env }, added('modelCalls'));
    toolCalls.inc({ env }, added('toolCalls'));
    toolErrors.inc({ env }, stats.toolErrors);
    promptTokens.inc({ env }, added('promptTokens'));
    completionTokens.inc({ env }, added('completionTokens'));
    completed?.inc();
  };

  return {
    onRollout(event) {
      if (event.type === 'started') {
        inFlight.inc({ env: event.env });
        claimed?.inc();
      } else if (event.type === 'ended') inFlight.dec({ env: event.env });
      else count(event.rollout, event.replaced);
    },
    onProgress(progress) {
      expected?.set(progress.total);
      done?.set(progress.done);
    },
    onWorkerEvent(event) {
      if (event.type === 'failed') jobsFailed?.inc({ final: String(event.final) });
      else if (event.type === 'handed_back') handedBack?.inc();
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export interface MetricsEndpointOptions {
  port: number;
  /** Default 127.0.0.1; any other address needs `token`. */
  host?: string;
  token?: string;
}

export interface MetricsEndpoint {
  /** `http://HOST:PORT/metrics`, with the port the system chose for port 0. */
  url: string;
  close(): Promise<void>;
}

/**
 * Checks the endpoint's settings (the flags of `run` and `worker`) before anything starts: beyond
 * loopback, metrics are served only to holders of a token.
 */
export function checkMetricsEndpoint(options: MetricsEndpointOptions): void {
  const { token, host = '127.0.0.1' } = options;
  if (token !== undefined && (token.trim() === '' || token !== token.trim())) throw new InputError('--metrics-token', 'is empty or starts or ends with whitespace', 'a non-empty secret with no surrounding spaces');
  if (token === undefined && !isLoopbackHost(host)) {
    throw new InputError('--metrics-host', `serving metrics on ${host} (beyond loopback) needs a bearer token`, '--metrics-token SECRET or the GAUNTLET_TOKEN environment variable, or --metrics-host 127.0.0.1');
  }
}

/** Serves `GET /metrics` on a small HTTP server of its own until `close`. */
export async function serveMetrics(metrics: Pick<GauntletMetrics, 'scrape'>, options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  checkMetricsEndpoint(options);
  const { token, host = '127.0.0.1' } = options;
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (token !== undefined && !hasBearerToken(c.req.header('authorization'), token)) {
      return c.text('missing or wrong bearer token (send Authorization: Bearer <token>)\n', 401, { 'WWW-Authenticate': 'Bearer' });
    }
    // As the other servers: no rebound DNS name or other site's page reads through a browser.
    const refusal = browserRefusal({ host: new URL(c.req.url).host, origin: c.req.header('origin'), tokenRequired: token !== undefined });
    if (refusal !== null) return c.text(`${refusal}\n`, 403);
    await next();
  });
  app.get('/metrics', async (c) => {
    const scrape = await metrics.scrape();
    return c.body(scrape.body, 200, { 'content-type': scrape.contentType });
  });
  app.notFound((c) => c.text(`no route ${c.req.method} ${c.req.path}; this server serves GET /metrics\n`, 404));
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new InputError('--metrics-port', `${host}:${options.port} is already in use`, 'a free port, or 0 to pick one') : error),
    );
    server.listen(options.port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's kept-alive connection must not hold the process open after the work is done.
        server.closeAllConnections();
      })),
  };
}
