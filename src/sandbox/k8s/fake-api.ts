// A loopback stand-in for the few Kubernetes API endpoints the k8s mode uses, for tests: pods
// (create, read, list by label, merge-patch, delete) and exec over WebSocket (v5.channel.k8s.io).
// Each "pod" is a local container (fake-container.ts): pid 1 is the pod's own command, exec enters
// its namespaces, and its work dir is the pod's volume, so exec runs for real and what a command
// leaves running stays, as in a pod. A pod can be ended as the cluster would (a container
// OOM-killed by its memory limit or killed otherwise, an eviction): its commands die.
// For attack tests the fake can also turn hostile: any request can be answered in its place
// (`intercept`), and exec streams and their upgrades served by the test (`execHook`, `upgradeHook`).
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { WebSocketServer, type WebSocket } from 'ws';
import { stringify } from 'yaml';
import { z } from 'zod';
import { startFakeContainer, statusOf, type FakeContainer } from './fake-container.ts';

const Quantities = z.record(z.string(), z.string()).optional();
const PodBody = z.object({
  metadata: z.object({ name: z.string().min(1), labels: z.record(z.string(), z.string()).default({}), annotations: z.record(z.string(), z.string()).default({}) }),
  spec: z.object({ containers: z.array(z.object({ name: z.string(), image: z.string().min(1), command: z.array(z.string()).min(1).optional(), volumeMounts: z.array(z.object({ mountPath: z.string() })).default([]), resources: z.object({ limits: Quantities, requests: Quantities }).passthrough().optional() }).passthrough()).min(1) }).passthrough(),
}).passthrough();
type PodBody = z.infer<typeof PodBody>;

/**
 * The pod's QoS class as the API server sets it in status.qosClass: Guaranteed when every
 * container has cpu and memory limits and requests equal to them (an unset request takes the
 * limit), BestEffort when none has either, else Burstable. Quantities compare as written.
 */
function qosClassOf(body: PodBody): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const resources = body.spec.containers.map((c) => ({ limits: c.resources?.limits ?? {}, requests: c.resources?.requests ?? {} }));
  const guaranteed = resources.every(({ limits, requests }) => ['cpu', 'memory'].every((r) => limits[r] !== undefined && (requests[r] ?? limits[r]) === limits[r]));
  if (guaranteed) return 'Guaranteed';
  const none = resources.every(({ limits, requests }) => ['cpu', 'memory'].every((r) => limits[r] === undefined && requests[r] === undefined));
  return none ? 'BestEffort' : 'Burstable';
}

interface FakePod {
  body: PodBody;
  /** Bumped on every change, as the API server's resourceVersion is. */
  resourceVersion: number;
  /** When the fake made it (metadata.creationTimestamp). */
  created: string;
  /** Replaces the status the fake would report (a pod stuck pulling its image, a restarted container). */
  status?: Record<string, unknown>;
  container: FakeContainer;
  /** Reads answered Pending before the pod reports Running. */
  pendingReads: number;
  /** Exec streams now open and their commands, so that ending the pod can end them. */
  execs: Map<WebSocket, string>;
  /** Set once the container has stopped: the pod then reports Failed (with `evicted`: why the kubelet evicted it). */
  ended?: { reason: string; exitCode: number; evicted?: string };
}

/** A request as the fake saw it, for `intercept`. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lets the fake answer the request (its effects happen) and returns that answer, which `intercept` may replace. */
  forward(): Promise<Response>;
}

export interface FakeKubeApi {
  url: string;
  /** Pod names now held. */
  pods(): string[];
  /** Resolves once no pod is held (at once if none is). */
  allDeleted(): Promise<void>;
  annotations(name: string): Record<string, string> | undefined;
  /**
   * Ends a pod's container as the cluster would, reported as terminated with `reason` and exit 137
   * (default `OOMKilled`: its processes went over the pod's memory limit; `Error`: killed for some
   * other reason): commands running in it die with 137, the pod reports Failed, and exec into it
   * is refused.
   */
  endPod(name: string, reason?: string): Promise<void>;
  /**
   * Evicts a pod as the kubelet does (`reason: Evicted` with `message`, such as going over its
   * ephemeral-storage limit): its commands die with 137 and the pod reports Failed.
   */
  evictPod(name: string, message: string): Promise<void>;
  /** Resolves once an exec into the pod whose command line contains `text` is running (for ending it mid-command). */
  execStarted(name: string, text?: string): Promise<void>;
  /** Every request as `METHOD path`, in order. */
  requests: string[];
  /** The image of every pod created, in order. */
  images: string[];
  /** How long a pod delete takes before the pod is gone and the API answers (a busy cluster); 0 by default. */
  deleteDelayMs: number;
  /**
   * A broken or hostile API server or proxy: sees every HTTP request first and returns the answer
   * to send instead (after `forward()` or not), or undefined to let the fake answer.
   */
  intercept: ((request: FakeRequest) => Response | undefined | Promise<Response | undefined>) | undefined;
  /** Takes over an exec stream once upgraded (returns true), in place of running its command. */
  execHook: ((socket: WebSocket, exec: { pod: string; command: string }) => boolean) | undefined;
  /** Takes over an exec request before its upgrade (returns true): refuse it, or never answer. */
  upgradeHook: ((socket: Duplex, exec: { pod: string; command: string }) => boolean) | undefined;
  /** Sets what a pod reports as its status from now on (undefined: the fake's own). */
  setStatus(name: string, status: Record<string, unknown> | undefined): void;
  /** A kubeconfig (YAML) for this fake, its context in `namespace` (default `sandboxes`). */
  kubeconfig(namespace?: string): string;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

function matches(labels: Record<string, string>, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return key !== undefined && labels[key] === value;
  });
}

/**
 * Starts the fake on 127.0.0.1; each pod reports Pending for `pendingReads` reads first. Given
 * `namespaces`, the user may touch only those (403 elsewhere, as RBAC answers); given
 * `execProtocols`, exec speaks only those (an older cluster: v4.channel.k8s.io).
 */
export async function startFakeKubeApi(options: { pendingReads?: number; namespaces?: string[]; execProtocols?: string[] } = {}): Promise<FakeKubeApi> {
  const pods = new Map<string, FakePod>();
  const requests: string[] = [];
  const images: string[] = [];
  let versions = 0;
  const app = new Hono();
  app.use('*', async (c, next) => {
    requests.push(`${c.req.method} ${c.req.path}`);
    const namespace = /^\/api\/v1\/namespaces\/([^/]+)\//.exec(c.req.path)?.[1];
    if (namespace !== undefined && options.namespaces && !options.namespaces.includes(namespace)) {
      return c.json(status(403, 'Forbidden', `pods is forbidden: User "tester" cannot access resource "pods" in the namespace "${namespace}"`), 403);
    }
    if (!fake.intercept) return void (await next());
    let forwarded = false;
    const forward = async () => {
      forwarded = true;
      await next();
      return c.res.clone();
    };
    const answer = await fake.intercept({ method: c.req.method, path: c.req.path, query: new URL(c.req.url).searchParams, forward });
    if (answer === undefined) {
      if (!forwarded) await next();
      return;
    }
    c.res = undefined;
    c.res = answer;
  });
  const execWaiters = new Set<{ name: string; text: string; resolve: () => void }>();
  let emptied: Array<() => void> = [];
  const wakeIfEmpty = () => {
    if (pods.size > 0) return;
    for (const resolve of emptied) resolve();
    emptied = [];
  };
  const wakeWaiters = () => {
    for (const waiter of execWaiters) {
      const running = [...(pods.get(waiter.name)?.execs ?? [])].some(([ws, command]) => ws.readyState === ws.OPEN && command.includes(waiter.text));
      if (!running) continue;
      execWaiters.delete(waiter);
      waiter.resolve();
    }
  };
  /** Stops a pod's container as the cluster would: its running execs report 137, and it reports Failed. */
  const end = async (pod: FakePod, ended: NonNullable<FakePod['ended']>) => {
    pod.ended = ended;
    pod.resourceVersion = ++versions;
    // What a container runtime reports for an exec whose container died: killed, 137.
    for (const ws of pod.execs.keys()) {
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(exitStatus(137)))]));
      ws.close();
    }
    await pod.container.kill();
  };
  const podView = (pod: FakePod) => {
    const view = ownView(pod);
    return { ...view, metadata: { ...view.metadata, resourceVersion: String(pod.resourceVersion), creationTimestamp: pod.created }, ...(pod.status && !pod.ended ? { status: pod.status } : {}) };
  };
  const ownView = (pod: FakePod) => {
    const container = pod.body.spec.containers[0]?.name ?? 'sandbox';
    if (pod.ended) {
      const terminated = { reason: pod.ended.reason, exitCode: pod.ended.exitCode };
      const evicted = pod.ended.evicted !== undefined ? { reason: 'Evicted', message: pod.ended.evicted } : {};
      return { apiVersion: 'v1', kind: 'Pod', ...pod.body, status: { phase: 'Failed', ...evicted, qosClass: qosClassOf(pod.body), containerStatuses: [{ name: container, restartCount: 0, ready: false, state: { terminated } }] } };
    }
    const phase = pod.pendingReads > 0 ? 'Pending' : 'Running';
    return { apiVersion: 'v1', kind: 'Pod', ...pod.body, status: { phase, qosClass: qosClassOf(pod.body), containerStatuses: [{ name: container, restartCount: 0, ready: phase === 'Running', state: phase === 'Running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } } }] } };
  };
  app.post('/api/v1/namespaces/:ns/pods', async (c) => {
    const parsed = PodBody.safeParse(await c.req.json());
    if (!parsed.success) return c.json(status(422, 'Invalid', parsed.error.message), 422);
    const body = parsed.data;
    if (pods.has(body.metadata.name)) return c.json(status(409, 'AlreadyExists', `pods "${body.metadata.name}" already exists`), 409);
    images.push(body.spec.containers[0]!.image);
    const spec = body.spec.containers[0]!;
    const container = await startFakeContainer({ workdir: spec.volumeMounts[0]?.mountPath ?? '/work', command: spec.command ?? ['sh', '-c', 'while :; do sleep 3600; done'] });
    const pod: FakePod = { body, resourceVersion: ++versions, created: new Date().toISOString(), container, pendingReads: options.pendingReads ?? 0, execs: new Map() };
    pods.set(body.metadata.name, pod);
    // A pid 1 that ends on its own stops the container, as in a cluster (restartPolicy: Never).
    void container.stopped.then((exitCode) => {
      if (pods.get(body.metadata.name) === pod && !pod.ended) end(pod, { reason: exitCode === 0 ? 'Completed' : 'Error', exitCode });
    });
    return c.json(podView(pod), 201);
  });
  app.get('/api/v1/namespaces/:ns/pods', (c) => {
    const selector = c.req.query('labelSelector');
    return c.json({ apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [...pods.values()].filter((pod) => matches(pod.body.metadata.labels, selector)).map(podView) });
  });
  app.get('/api/v1/namespaces/:ns/pods/:name', (c) => {
    const pod = pods.get(c.req.param('name'));
    if (!pod) return c.json(status(404, 'NotFound', `pods "${c.req.param('name')}" not found`), 404);
    const view = podView(pod);
    if (pod.pendingReads > 0) pod.pendingReads--;
    return c.json(view);
  });
  app.patch('/api/v1/namespaces/:ns/pods/:name', async (c) => {
    const pod = pods.get(c.req.param('name'));
    if (!pod) return c.json(status(404, 'NotFound', `pods "${c.req.param('name')}" not found`), 404);
    if (c.req.header('content-type') !== 'application/merge-patch+json') return c.json(status(415, 'UnsupportedMediaType', 'only merge patches here'), 415);
    const patch = z.object({ metadata: z.object({ annotations: z.record(z.string(), z.string()) }) }).parse(await c.req.json());
    Object.assign(pod.body.metadata.annotations, patch.metadata.annotations);
    pod.resourceVersion = ++versions;
    return c.json(podView(pod));
  });
  app.delete('/api/v1/namespaces/:ns/pods/:name', async (c) => {
    if (fake.deleteDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.deleteDelayMs));
    const pod = pods.get(c.req.param('name'));
    if (!pod) return c.json(status(404, 'NotFound', `pods "${c.req.param('name')}" not found`), 404);
    // DeleteOptions' preconditions, as the API server checks them.
    const body = await c.req.text();
    const preconditions = body ? z.object({ preconditions: z.object({ uid: z.string().optional(), resourceVersion: z.string().optional() }).optional() }).passthrough().parse(JSON.parse(body)).preconditions : undefined;
    if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== String(pod.resourceVersion)) {
      return c.json(status(409, 'Conflict', `Operation cannot be fulfilled on Pod "${c.req.param('name')}": the ResourceVersion in the precondition (${preconditions.resourceVersion}) does not match the ResourceVersion in record (${pod.resourceVersion}). The object might have been modified`), 409);
    }
    pods.delete(c.req.param('name'));
    wakeIfEmpty();
    await pod.container.kill();
    return c.json(podView(pod));
  });

  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server;
  // The channel protocols this API server speaks, best first (v5 since Kubernetes 1.30).
  const spoken = options.execProtocols ?? ['v5.channel.k8s.io'];
  /** Connections a test's upgradeHook took over: ended with the fake, whatever the test left them in. */
  const hooked = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => spoken.find((p) => offered.has(p)) ?? false });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    requests.push(`EXEC ${url.pathname}`);
    const name = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)\/exec$/.exec(url.pathname)?.[1];
    const pod = name ? pods.get(name) : undefined;
    if (!pod) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    const exec = { pod: name ?? '', command: url.searchParams.getAll('command').join(' ') };
    if (fake.upgradeHook?.(socket, exec)) return void hooked.add(socket);
    if (pod.ended) return void socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (fake.execHook?.(ws, exec)) return;
      pod.execs.set(ws, url.searchParams.getAll('command').join(' '));
      ws.on('close', () => pod.execs.delete(ws));
      wakeWaiters();
      // Deleted: the pod left the map before its container was killed.
      serveExec(ws, pod.container, url.searchParams, () => pods.get(name ?? '') !== pod);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeKubeApi = {
    url: `http://127.0.0.1:${port}`,
    pods: () => [...pods.keys()],
    allDeleted: () =>
      new Promise<void>((resolve) => {
        emptied.push(resolve);
        wakeIfEmpty();
      }),
    annotations: (name) => pods.get(name)?.body.metadata.annotations,
    endPod: async (name, reason = 'OOMKilled') => {
      const pod = pods.get(name);
      if (!pod) throw new Error(`fake kube API: no pod ${name}`);
      await end(pod, { reason, exitCode: 137 });
    },
    evictPod: async (name, message) => {
      const pod = pods.get(name);
      if (!pod) throw new Error(`fake kube API: no pod ${name}`);
      await end(pod, { reason: 'Error', exitCode: 137, evicted: message });
    },
    execStarted: (name, text = '') =>
      new Promise<void>((resolve) => {
        execWaiters.add({ name, text, resolve });
        wakeWaiters();
      }),
    requests,
    images,
    kubeconfig: (namespace = 'sandboxes') =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'tester', user: { token: 'fake-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'tester', namespace } }],
        'current-context': 'fake',
      }),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      for (const socket of hooked) socket.destroy();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pods.values()].map((pod) => pod.container.kill()));
      pods.clear();
    },
    deleteDelayMs: 0,
    intercept: undefined,
    execHook: undefined,
    upgradeHook: undefined,
    setStatus: (name, status) => {
      const pod = pods.get(name);
      if (!pod) throw new Error(`fake kube API: no pod ${name}`);
      pod.status = status;
      pod.resourceVersion = ++versions;
    },
  };
  return fake;
}

/**
 * Runs the exec's argv in the pod's container, streaming stdin in (channel 0, until its close
 * frame) and its output out (1, 2) as it comes; the exit status goes on channel 3. As with a real
 * kubelet, a client that drops the stream does not stop the command: it runs on in the pod.
 */
function serveExec(ws: WebSocket, container: FakeContainer, query: URLSearchParams, deleted: () => boolean): void {
  const child = container.exec(query.getAll('command'));
  const send = (channel: number, payload: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), payload]));
  };
  child.stdin.on('error', () => undefined);
  if (query.get('stdin') !== 'true') child.stdin.end();
  ws.on('message', (data: Buffer) => {
    if (data[0] === 0) child.stdin.write(data.subarray(1));
    else if (data[0] === 255 && data[1] === 0) child.stdin.end();
  });
  child.stdout.on('data', (chunk: Buffer) => send(1, chunk));
  child.stderr.on('data', (chunk: Buffer) => send(2, chunk));
  child.on('error', () => undefined);
  child.on('close', (code, signal) => {
    // The pod was ended under the command: `end` answered for it.
    if (ws.readyState !== ws.OPEN) return;
    // A pod deleted under the command killed it with its container, as a runtime does: an exec that
    // reached the container only as it went (nsenter finding no namespace to enter) ends so too,
    // rather than with nsenter's own failure as if it were the command's.
    send(3, Buffer.from(JSON.stringify(exitStatus(deleted() ? 137 : statusOf(code, signal)))));
    ws.close();
  });
}

/** The exec status channel's message for an exit code. */
function exitStatus(exitCode: number) {
  return exitCode === 0
    ? { status: 'Success', metadata: {} }
    : { status: 'Failure', reason: 'NonZeroExitCode', message: `command terminated with non-zero exit code: ${exitCode}`, details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] }, metadata: {} };
}
