// The external agent's sandbox: bubblewrap with every namespace unshared (no network at all), a
// read-only system and agent install, a throwaway HOME, the task's files at /work, and one way
// out: a Unix socket bound in, which a tiny forwarder inside turns back into 127.0.0.1:PORT for
// the agent. On the host, the socket's other end relays to the gateway and nowhere else.
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InfraError } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';

/** Inside the sandbox. */
export const SANDBOX_PATHS = { work: '/work', home: '/home/agent', agent: '/opt/agent', support: '/opt/gauntlet', socketDir: '/run/gauntlet' } as const;
const SOCKET_NAME = 'gateway.sock';
/** The loopback port the forwarder listens on inside the sandbox (its own network namespace: nothing else is there). */
export const FORWARD_PORT = 18080;

// Runs inside: listens on loopback, pipes every connection to the socket, then starts the agent
// and exits with its status. Plain JavaScript so the sandbox needs only node.
const FORWARDER = `import { createConnection, createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
const [socketPath, port, program, ...args] = process.argv.slice(2);
const server = createServer((client) => {
  const upstream = createConnection(socketPath);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(Number(port), '127.0.0.1', () => {
  const child = spawn(program, args, { stdio: 'inherit' });
  child.on('error', (error) => { process.stderr.write('gauntlet-forwarder: cannot start ' + program + ': ' + error.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
});
server.on('error', (error) => { process.stderr.write('gauntlet-forwarder: cannot listen on 127.0.0.1:' + port + ': ' + error.message + '\\n'); process.exit(126); });
`;

const ETC_ENTRIES = ['passwd', 'group', 'hosts', 'nsswitch.conf', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'timezone', 'os-release', 'ssl', 'ca-certificates'];

function systemArgs(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64']) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
    } catch {
      // not on this system
    }
  }
  for (const entry of ETC_ENTRIES) args.push('--ro-bind-try', `/etc/${entry}`, `/etc/${entry}`);
  return args;
}

/** Node itself, when it lives outside /usr (nvm, /opt/node): bound read-only where it is. */
function nodeArgs(): string[] {
  const root = dirname(dirname(process.execPath));
  return root === '/usr' || root.startsWith('/usr/') ? [] : ['--ro-bind', root, root];
}

export interface JailOptions {
  /** Host folder with the task's files, bound read-write at /work. */
  workDir: string;
  /** Host folder of the agent's install (read-only at /opt/agent). */
  agentDir: string;
  /** `node_modules/.bin` name of the agent's program. */
  bin: string;
  args: string[];
  env: Record<string, string>;
  /** Files for the throwaway HOME, relative to it. */
  homeFiles: Record<string, string>;
  /** Where the host relay connects: the gateway's host and port. */
  gateway: { host: string; port: number };
  /** The rollout's route on the gateway (`/rollouts/<id>`): the only paths the sandbox reaches. */
  route: string;
}

export interface JailedProcess {
  child: ChildProcess;
  /** Kills everything in the sandbox (bwrap's own pid namespace goes with it). */
  kill(): void;
  /** Stops the relay and removes HOME and the socket. */
  dispose(): Promise<void>;
}

/** The model APIs the gateway records (POST), as paths under a rollout's route. */
const RECORDED_APIS = new Set(['/v1/chat/completions', '/v1/completions', '/v1/responses', '/v1/messages']);
/** Harmless reads an agent may make on start-up. */
const READS = new Set(['/health', '/v1/models']);
/** Connections one sandbox may hold open through the relay: an agent's few streams, not the host's file table. */
export const MAX_RELAY_CONNECTIONS = 64;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/**
 * The gateway path a request from the sandbox may take: only its own rollout's recorded APIs and
 * harmless reads, matched exactly (no `..`, no escapes), so a hostile agent can neither record into
 * another rollout nor reach the engine unrecorded. Null when refused.
 */
export function relayedPath(method: string | undefined, url: string | undefined, route: string): string | null {
  const [path = '', query] = (url ?? '').split(/\?(.*)/s, 2);
  if (!path.startsWith(`${route}/`)) return null;
  const rest = path.slice(route.length);
  const allowed = method === 'POST' ? RECORDED_APIS.has(rest) : method === 'GET' && READS.has(rest);
  return allowed ? `${route}${rest}${query ? `?${query}` : ''}` : null;
}

/** Headers passed on either way: none of the gateway's own (`x-gauntlet-*`: a rollout, "recorded by client"), no hop-by-hop ones. */
function passedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !name.startsWith('x-gauntlet-')));
}

/** The host end of the sandbox's socket: an HTTP relay to the gateway that passes only `relayedPath`s. */
function relay(socketPath: string, gateway: { host: string; port: number }, route: string): Promise<Server> {
  const server = createHttpServer((req, res) => {
    const path = relayedPath(req.method, req.url, route);
    if (!path) {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `${req.method ?? ''} ${req.url ?? ''}: this sandbox reaches only ${route}/v1/{chat/completions,completions,responses,messages}`, type: 'invalid_request_error', param: null, code: null } }));
      return;
    }
    const upstream = httpRequest({ host: gateway.host, port: gateway.port, method: req.method, path, headers: passedHeaders(req.headers), agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, passedHeaders(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'the gateway is unreachable', type: 'server_error', param: null, code: null } }));
    });
    // The agent went away (or was killed): the gateway sees its call end, and stops the engine's work.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.maxConnections = MAX_RELAY_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** The bwrap command line for one agent run (exported for tests and `--dry-run` style inspection). */
export function jailArgs(options: Pick<JailOptions, 'workDir' | 'agentDir' | 'bin' | 'args' | 'env'> & { homeDir: string; supportDir: string; socketDir: string }): string[] {
  const env: Record<string, string> = {
    HOME: SANDBOX_PATHS.home,
    PATH: `${SANDBOX_PATHS.agent}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin`,
    TERM: 'dumb',
    NO_COLOR: '1',
    CI: '1',
    LANG: 'C.UTF-8',
    NO_PROXY: '127.0.0.1,localhost',
    ...options.env,
  };
  return [
    '--unshare-all',
    // As root bwrap would keep every capability inside: the agent needs none.
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session',
    ...systemArgs(),
    ...nodeArgs(),
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
    '--ro-bind', options.agentDir, SANDBOX_PATHS.agent,
    '--ro-bind', options.supportDir, SANDBOX_PATHS.support,
    '--bind', options.socketDir, SANDBOX_PATHS.socketDir,
    '--bind', options.homeDir, SANDBOX_PATHS.home,
    '--bind', options.workDir, SANDBOX_PATHS.work,
    '--chdir', SANDBOX_PATHS.work,
    '--clearenv',
    ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
    process.execPath,
    `${SANDBOX_PATHS.support}/forwarder.mjs`,
    `${SANDBOX_PATHS.socketDir}/${SOCKET_NAME}`,
    String(FORWARD_PORT),
    `${SANDBOX_PATHS.agent}/node_modules/.bin/${options.bin}`,
    ...options.args,
  ];
}

/** Starts the agent in its sandbox; refuses (never runs it on the host) when bubblewrap cannot run here. */
export async function startJailed(options: JailOptions): Promise<JailedProcess> {
  const { bwrap } = await sandboxAvailability();
  if (!bwrap.available || !bwrap.path) throw new InfraError('sandbox', `external agents run only inside bubblewrap, which cannot run here: ${bwrap.reason ?? 'unavailable'}`, { retryable: false });
  const base = await mkdtemp(join(tmpdir(), 'gauntlet-agent-'));
  const homeDir = join(base, 'home');
  const supportDir = join(base, 'support');
  const socketDir = join(base, 'socket');
  let server: Server | undefined;
  const dispose = async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await rm(base, { recursive: true, force: true });
  };
  try {
    for (const dir of [homeDir, supportDir, socketDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [path, content] of Object.entries(options.homeFiles)) {
      await mkdir(dirname(join(homeDir, path)), { recursive: true });
      await writeFile(join(homeDir, path), content);
    }
    await writeFile(join(supportDir, 'forwarder.mjs'), FORWARDER);
    await chmod(supportDir, 0o755);
    server = await relay(join(socketDir, SOCKET_NAME), options.gateway, options.route);
    const child = spawn(bwrap.path, jailArgs({ ...options, homeDir, supportDir, socketDir }), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    };
    return { child, kill, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
