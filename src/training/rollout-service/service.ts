// `startRolloutService`: one service session = one stored run. Its rollouts are ordinary rollouts
// of that run (same ids, seeds, groups and records as `gauntlet run --group-size G`); every call
// carries the policy version that produced it; the trainer pulls batches of finished groups.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { z } from 'zod';
import { applyHttpLimits, DEFAULT_HTTP_TIMEOUTS, GAUNTLET_VERSION, InputError, newRunId, parseInput, resolveHttpLimits, SCHEMA_VERSION, type HttpTimeouts, type ModelClient, type Run, type RunLease, type Store, type Task } from '../../core/index.ts';
import { createModelClient, parseModelSpec } from '../../model/index.ts';
import { builtinCatalog, judgeFromConfig, resolveRun, type EnvironmentCatalog, type MetricsScrape, type ModelEnvironment, type RolloutEvent, type RunRequest } from '../../runner/index.ts';
import { AdvantageMethod } from '../advantages/index.ts';
import { resolveTarget, type ExportTarget } from '../export/index.ts';
import { requiredToken } from '../../core/index.ts';
import { serviceExecutor, type ServiceExecutor } from './executor.ts';
import { createServiceApp } from './http.ts';
import { endpointSpec, PolicyEndpoints, type PolicyEndpoint } from './policy.ts';
import type { SchedulerReport } from './report.ts';
import { groupRows } from './rows.ts';
import { FINISHED_BATCHES_KEPT, RolloutScheduler, type BatchRecord, type BatchSink } from './scheduler.ts';
import { MAX_LINE_CHARS, PolicyVersion, StreamFormat, type BatchRequest, type PolicyAnnouncement } from './schemas.ts';

/** Why a request was refused: the status, the body field at fault (when one is), and what was wrong. */
export interface Rejection {
  status: 400 | 404 | 409 | 413 | 503;
  field: string | null;
  message: string;
}

/** A run's settings less those the service decides: epochs (one world per group) and the policy version (per call). */
export type ServiceRunRequest = Omit<RunRequest, 'epochs' | 'policyVersion'>;

export type Outcome<T> = { ok: true; value: T } | ({ ok: false } & Rejection);

const ServiceSettings = z.object({
  maxStaleness: z.number().int('a whole number of versions').min(0, 'at least 0 (0: strictly on-policy)').max(1_000_000),
  window: z.number().int('a whole number of groups').min(0, 'at least 0').max(10_000, 'at most 10,000 groups'),
  leftovers: z.enum(['keep', 'cancel']),
  policyVersion: PolicyVersion,
  format: StreamFormat,
  variant: z.string().min(1).optional(),
  advantage: AdvantageMethod,
  host: z.string().min(1),
  port: z.number().int().min(0).max(65_535),
  maxFailedGroups: z.number().int().min(1),
  maxOpenGroups: z.number().int('a whole number of groups').min(1, 'at least 1 group').max(1_000_000, 'at most 1,000,000 groups'),
  maxLineChars: z.number().int('a whole number of characters').min(1, 'at least 1 character').max(MAX_LINE_CHARS, `at most ${MAX_LINE_CHARS} (what clients read)`),
  graceMs: z.number().int().min(0),
});

export interface RolloutServiceOptions {
  store: Store;
  /** The run's settings as for `gauntlet run` (envs, tasks, model, groupSize, concurrency, seed, sampling, limits). */
  run: ServiceRunRequest;
  catalog?: EnvironmentCatalog;
  /** Versions a call may lag the trainer and still be handed out. Default 1. */
  maxStaleness?: number;
  /** Groups kept in flight beyond what open batches need; the first to finish are handed out. Default 4. */
  window?: number;
  /** Unfinished groups of a full batch: `keep` (serve them later, within staleness) or `cancel`. Default keep. */
  leftovers?: 'keep' | 'cancel';
  /** The version the initial endpoint serves. Default 0. */
  policyVersion?: number;
  /** Default row format for batches that name none. Default generic. */
  format?: StreamFormat;
  variant?: string;
  advantage?: AdvantageMethod;
  /** Default 127.0.0.1; anything beyond loopback needs `token`. */
  host?: string;
  /** Default 8100; 0 picks a free port. */
  port?: number;
  token?: string;
  /** Counts the session's rollouts and serves them at `GET /metrics`, behind the same token (see runner/metrics.ts). */
  metrics?: { onRollout(event: RolloutEvent): void; scrape(): Promise<MetricsScrape> };
  modelEnvironment?: ModelEnvironment;
  /** Groups in a row ending in infrastructure failures before open batches fail. Default 5. */
  maxFailedGroups?: number;
  /**
   * Groups all open batches together may still await. Each open batch keeps its groups running
   * until it is read to the end, so a trainer that requests batches in a loop (retrying, or never
   * reading them) would otherwise start groups without bound. Default 10,000.
   */
  maxOpenGroups?: number;
  /** The longest stream line a group may take (default and most: what the client reads, 256 Mi characters); a longer group is dropped. */
  maxLineChars?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  graceMs?: number;
  log?: (line: string) => void;
  /** Sockets open at once; one more is closed as it arrives. Default 256: a trainer's clients need a few. */
  maxConnections?: number;
  /** Sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival. Default: no limit beyond maxConnections. */
  maxConnectionsPerClient?: number;
  /** How long a client may take over a request head and body, and leave a connection idle (see core/http-limits.ts); a batch's stream is never timed. */
  httpTimeouts?: Partial<HttpTimeouts>;
}

export interface RolloutService {
  url: string;
  runId: string;
  core: RolloutServiceCore;
  /** Stops serving, cancels running rollouts (stored as cancelled), marks the run finished. */
  close(): Promise<void>;
}

/** What the HTTP layer calls; usable directly by an in-process trainer. */
export class RolloutServiceCore {
  private announcing: Promise<unknown> = Promise.resolve();
  private closing = false;

  constructor(
    readonly runId: string,
    private readonly parts: {
      scheduler: RolloutScheduler;
      endpoints: PolicyEndpoints;
      executor: ServiceExecutor;
      tasks: readonly Task[];
      groupSize: number;
      settings: z.infer<typeof ServiceSettings>;
      connect: (spec: string) => Promise<ModelClient>;
      now: () => number;
      log?: (line: string) => void;
    },
  ) {}

  openBatch(request: BatchRequest): Outcome<{ id: string; groups: number; groupSize: number; policyVersion: number; format: { target: string; variant: string }; advantage: AdvantageMethod; stream: string }> {
    const { scheduler, endpoints, settings, groupSize } = this.parts;
    if (this.closing) return { ok: false, status: 503, field: null, message: 'the rollout service is shutting down' };
    if (scheduler.failure) return { ok: false, status: 503, field: null, message: `the rollout service stopped serving: ${scheduler.failure}` };
    if (request.groupSize !== undefined && request.groupSize !== groupSize) {
      return { ok: false, status: 400, field: 'groupSize', message: `groupSize: this session serves groups of ${groupSize} (--group-size); start another session for ${request.groupSize}` };
    }
    const current = endpoints.current.version;
    if (request.policyVersion !== current) {
      return { ok: false, status: 409, field: 'policyVersion', message: `policyVersion: the service is at version ${current}, the request says ${request.policyVersion} (announce a new version with POST /v1/policy first)` };
    }
    const known = new Set<string>(this.parts.tasks.map((t) => t.id));
    const unknown = (request.tasks ?? []).findIndex((id) => !known.has(id));
    if (unknown >= 0) return { ok: false, status: 400, field: `tasks.${unknown}`, message: `tasks.${unknown}: "${request.tasks?.[unknown]}" is not a task of this session (${[...known].slice(0, 5).join(', ')}${known.size > 5 ? ', …' : ''})` };
    let target: ExportTarget;
    try {
      target = resolveTarget(request.format ?? settings.format, request.variant ?? (request.format ? undefined : settings.variant));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return { ok: false, status: 400, field: 'variant', message: `variant: ${error.problem}${error.expected ? ` (expected ${error.expected})` : ''}` };
    }
    const owed = scheduler.owedGroups();
    if (owed + request.groups > settings.maxOpenGroups) {
      return { ok: false, status: 409, field: 'groups', message: `groups: open batches already await ${owed} groups and this session runs at most ${settings.maxOpenGroups} for open batches at once; read the open batches (GET /v1/batches/:id/stream) before requesting more` };
    }
    const method = request.advantage ?? settings.advantage;
    const batch = scheduler.openBatch({ size: request.groups, tasks: request.tasks ? new Set(request.tasks) : null, target, method, policyVersion: current });
    return {
      ok: true,
      value: { id: batch.id, groups: batch.size, groupSize, policyVersion: current, format: { target: target.name, variant: target.variant }, advantage: method, stream: `/v1/batches/${batch.id}/stream` },
    };
  }

  batchStatus(id: string): Outcome<{ id: string; state: BatchRecord['state']; groups: number; served: number; message: string | null }> {
    const batch = this.parts.scheduler.batch(id);
    if (!batch) return { ok: false, status: 404, field: null, message: `no batch ${id} (the service remembers its open batches and the last ${FINISHED_BATCHES_KEPT} finished ones)` };
    return { ok: true, value: { id: batch.id, state: batch.state, groups: batch.size, served: batch.served, message: batch.message } };
  }

  /** Connects a batch's reader: its finished groups are written to `sink` from now on. */
  attach(id: string, sink: BatchSink): Outcome<null> {
    const attached = this.parts.scheduler.attach(id, sink);
    return attached.ok ? { ok: true, value: null } : { ok: false, status: attached.status, field: null, message: attached.message };
  }

  detach(id: string, sink: BatchSink): void {
    this.parts.scheduler.detach(id, sink);
  }

  /** The current version, the last `POLICY_HISTORY_KEPT` announced, and how many were announced in all. */
  policy(): { current: Omit<PolicyEndpoint, 'client'>; history: Omit<PolicyEndpoint, 'client'>[]; announcements: number } {
    const { endpoints } = this.parts;
    const history = endpoints.announced();
    return { current: history.at(-1) as Omit<PolicyEndpoint, 'client'>, history, announcements: endpoints.announcements };
  }

  /** A new version and (optionally) the endpoint serving it. Announcements are applied one at a time. */
  announce(announcement: PolicyAnnouncement): Promise<Outcome<{ version: number; previous: number; spec: string; droppedGroups: number; cancelledGroups: number }>> {
    if (this.closing) return Promise.resolve({ ok: false, status: 503, field: null, message: 'the rollout service is shutting down; the announcement was not applied' });
    const next = this.announcing.then(() => this.applyAnnouncement(announcement));
    this.announcing = next.catch(() => undefined);
    return next;
  }

  private async applyAnnouncement(a: PolicyAnnouncement): Promise<Outcome<{ version: number; previous: number; spec: string; droppedGroups: number; cancelledGroups: number }>> {
    const { endpoints, scheduler } = this.parts;
    // Queued behind one that was running when the shutdown began: the endpoints are being closed.
    if (this.closing) return { ok: false, status: 503, field: null, message: 'the rollout service is shutting down; the announcement was not applied' };
    const current = endpoints.current;
    let spec: string;
    try {
      spec = endpointSpec(a.baseUrl ?? current.baseUrl, a.model ?? current.model, a.baseUrl !== undefined ? 'baseUrl' : 'model');
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return { ok: false, status: 400, field: error.where, message: error.message };
    }
    if (a.version === current.version && spec === current.spec) return { ok: true, value: { version: current.version, previous: current.version, spec, droppedGroups: 0, cancelledGroups: 0 } };
    if (a.version <= current.version) {
      return { ok: false, status: 409, field: 'version', message: `version: ${a.version} is not newer than the current version ${current.version}${a.version === current.version ? ` (served by ${current.spec})` : ''}; versions only move forward` };
    }
    const { baseUrl, model } = parseModelSpec(spec) as { baseUrl: string; model: string };
    // Same endpoint: its weights were updated in place, so the client is kept.
    const client = spec === current.spec ? current.client : await this.parts.connect(spec);
    endpoints.advance({ version: a.version, baseUrl, model, spec, client, announcedAt: new Date(this.parts.now()).toISOString() });
    const effect = scheduler.versionChanged();
    this.parts.log?.(`policy version ${a.version} (${spec}): ${effect.dropped} finished groups dropped and ${effect.cancelled} running groups cancelled as too stale`);
    return { ok: true, value: { version: a.version, previous: current.version, spec, droppedGroups: effect.dropped, cancelledGroups: effect.cancelled } };
  }

  stats(): { runId: string; policy: { version: number; spec: string }; settings: Record<string, unknown>; rollouts: { rolloutsRunning: number; rolloutsQueued: number } } & SchedulerReport {
    const { settings, endpoints, executor, scheduler, groupSize } = this.parts;
    return {
      runId: this.runId,
      policy: { version: endpoints.current.version, spec: endpoints.current.spec },
      settings: { groupSize, maxStaleness: settings.maxStaleness, window: settings.window, leftovers: settings.leftovers, format: settings.format, advantage: settings.advantage },
      rollouts: executor.stats(),
      ...scheduler.report(),
    };
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    await this.announcing;
    await this.parts.scheduler.close();
  }
}

/** Validates the settings, records the run, and serves the API until `close`. */
export async function startRolloutService(options: RolloutServiceOptions): Promise<RolloutService> {
  const settings = parseInput(
    ServiceSettings,
    {
      maxStaleness: options.maxStaleness ?? 1,
      window: options.window ?? 4,
      leftovers: options.leftovers ?? 'keep',
      policyVersion: options.policyVersion ?? 0,
      format: options.format ?? 'generic',
      ...(options.variant !== undefined ? { variant: options.variant } : {}),
      advantage: options.advantage ?? 'grpo',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8100,
      maxFailedGroups: options.maxFailedGroups ?? 5,
      maxOpenGroups: options.maxOpenGroups ?? 10_000,
      maxLineChars: options.maxLineChars ?? MAX_LINE_CHARS,
      graceMs: options.graceMs ?? 10_000,
    },
    'rollout service settings',
  );
  const limits = resolveHttpLimits({ maxConnections: 256, ...DEFAULT_HTTP_TIMEOUTS }, options);
  const token = requiredToken({ host: settings.host, token: options.token, exposes: 'steer training data' });
  resolveTarget(settings.format, settings.variant);
  const { store } = options;
  const catalog = options.catalog ?? builtinCatalog;
  const now = options.now ?? Date.now;
  const modelEnvironment = options.modelEnvironment ?? { env: process.env };
  const resolved = await resolveRun(withCapture(options.run, settings), { catalog });
  const { config, tasks } = resolved;
  const spec = parseModelSpec(config.model);
  if (spec.kind !== 'openai') throw new InputError('model', `the rollout service needs an OpenAI-compatible engine that returns token ids (vLLM, SGLang), got "${config.model}"`, 'openai:BASE_URL/v1#MODEL');
  if (config.scaffold === 'text-tools') throw new InputError('scaffold', 'the rollout service drives chat scaffolds (interleaved, drop-thinking); text-tools is not supported', 'interleaved or drop-thinking');
  const connect = (endpoint: string) =>
    createModelClient(endpoint, { env: modelEnvironment.env, seed: config.seed, ...(modelEnvironment.fetch ? { fetch: modelEnvironment.fetch } : {}), ...(config.modelOptions.stream === false ? { stream: false } : {}) });
  const initialSpec = endpointSpec(spec.baseUrl, spec.model, 'model');
  const endpoints = new PolicyEndpoints({ version: settings.policyVersion, baseUrl: spec.baseUrl, model: spec.model, spec: initialSpec, client: await connect(initialSpec), announcedAt: new Date(now()).toISOString() });

  const run: Run = { schemaVersion: SCHEMA_VERSION, id: newRunId(new Date(now())), createdAt: new Date(now()).toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'running', finishedAt: null };
  store.createRun(run, tasks);
  const lease: RunLease = store.acquireLease(run.id);
  const judge = await judgeFromConfig(config, modelEnvironment);
  const executor = serviceExecutor({
    runId: run.id,
    config,
    store,
    endpoints,
    environment: (name) => catalog.get(name),
    ...(judge ? { judge } : {}),
    now,
    sleep: options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    graceMs: settings.graceMs,
    concurrency: config.concurrency,
    ...(options.metrics ? { onRollout: (event: RolloutEvent) => options.metrics!.onRollout(event) } : {}),
  });
  const scheduler = new RolloutScheduler({
    tasks,
    groupSize: config.groupSize,
    maxStaleness: settings.maxStaleness,
    window: settings.window,
    leftovers: settings.leftovers,
    maxFailedGroups: settings.maxFailedGroups,
    maxLineChars: settings.maxLineChars,
    executor,
    rows: (members, batch) => groupRows(members, { run, target: batch.target, method: batch.method }),
    currentVersion: () => endpoints.current.version,
    now,
    ...(options.log ? { log: options.log } : {}),
  });
  const core = new RolloutServiceCore(run.id, { scheduler, endpoints, executor, tasks, groupSize: config.groupSize, settings, connect, now, ...(options.log ? { log: options.log } : {}) });
  const app = createServiceApp(core, { token, ...(options.metrics ? { metrics: () => options.metrics!.scrape() } : {}) });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: settings.host }) as Server;
  applyHttpLimits(server, limits, options.log);
  try {
    await listen(server, settings);
  } catch (error) {
    await core.shutdown();
    store.setRunStatus(run.id, 'interrupted');
    lease.release();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    runId: run.id,
    core,
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        try {
          await core.shutdown();
          store.setRunStatus(run.id, 'finished');
        } finally {
          lease.release();
          server.closeAllConnections();
          await stopped;
          await Promise.all([endpoints.close(), judge?.close?.()]);
        }
      })()),
  };
}

/**
 * The run's settings with token capture forced on (vLLM's `logprobs` and `return_token_ids`), a
 * sampling temperature recorded (1 unless given: what RL samples at), one world per group, and the
 * service's own settings kept with the run.
 */
function withCapture(request: ServiceRunRequest, settings: z.infer<typeof ServiceSettings>): RunRequest {
  const sampling = request.sampling ?? {};
  const groupSize = request.groupSize ?? 8;
  return {
    ...request,
    groupSize,
    epochs: groupSize,
    modelOptions: {
      ...request.modelOptions,
      rolloutService: { initialPolicyVersion: settings.policyVersion, maxStaleness: settings.maxStaleness, window: settings.window, leftovers: settings.leftovers },
    },
    sampling: { temperature: 1, ...sampling, extra: { ...sampling.extra, logprobs: true, return_token_ids: true } },
  };
}

function listen(server: Server, settings: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new InputError('port', `${settings.host}:${settings.port} is already in use`, 'a free port, or 0 to pick one') : error),
    );
    server.listen(settings.port, settings.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
}
