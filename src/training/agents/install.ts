// On-demand installs of external agents into a persistent cache, never as project dependencies:
// `<cache>/<package>@<version>/`, filled by `npm install --prefix` into a temporary folder and
// renamed into place once complete, under a lock file so parallel installs do not collide.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { errorMessage, InfraError, timerDelay } from '../../core/index.ts';
import type { AgentSpec } from './catalogue.ts';

/** `$GAUNTLET_CACHE/agents`, else `~/.cache/gauntlet/agents`. */
export function defaultAgentCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.GAUNTLET_CACHE ? join(env.GAUNTLET_CACHE, 'agents') : join(homedir(), '.cache', 'gauntlet', 'agents');
}

export interface InstalledAgent {
  spec: AgentSpec;
  /** The install prefix: `node_modules/.bin/<bin>` lives under it. */
  dir: string;
  /** True when this call ran npm (false: it was cached). */
  installed: boolean;
  /** How long npm took, when it ran. */
  installMs?: number;
}

export interface InstallOptions {
  cacheDir?: string;
  /** The npm client to run (default `npm` on PATH). */
  npm?: string;
  /** Extra npm arguments, e.g. `--registry URL`. */
  npmArgs?: string[];
  /** An install taking longer is stopped and reported. Default 10 minutes. */
  timeoutMs?: number;
  /** A lock older than this whose holder is gone is taken over. Default the install timeout. */
  staleLockMs?: number;
  now?: () => number;
}

const MARKER = '.gauntlet-agent.json';
const Marker = z.object({ package: z.string(), version: z.string(), installedAt: z.string() });

/** The folder name of one pinned package: `@openai/codex@0.171.0` → `@openai+codex@0.171.0`. */
export function agentInstallDir(spec: AgentSpec, cacheDir = defaultAgentCache()): string {
  return join(cacheDir, `${spec.packageName.replace('/', '+')}@${spec.version}`);
}

async function installedMarker(dir: string, spec: AgentSpec): Promise<boolean> {
  try {
    const marker = Marker.parse(JSON.parse(await readFile(join(dir, MARKER), 'utf8')));
    return marker.package === spec.packageName && marker.version === spec.version;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dir>.lock` (O_EXCL); waits while a live process holds it, takes over a dead holder's lock. */
async function acquireLock(lockPath: string, options: { staleMs: number; now: () => number }): Promise<() => Promise<void>> {
  const started = options.now();
  for (let wait = 50; ; wait = Math.min(1000, wait * 2)) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date(options.now()).toISOString() }));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(lockPath, 'utf8')
      .then((text) => z.object({ pid: z.number().int() }).parse(JSON.parse(text)).pid)
      .catch(() => null);
    const age = await stat(lockPath).then((s) => options.now() - s.mtimeMs).catch(() => 0);
    if ((holder !== null && !pidAlive(holder)) || age > options.staleMs) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (options.now() - started > options.staleMs) {
      throw new InfraError('sandbox', `agent install: ${lockPath} is held by process ${holder ?? '?'} for over ${options.staleMs} ms; remove it if that install is gone`, { retryable: false });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * What npm is given of this process's environment: its own settings, where it lives and how it
 * reaches the registry. Never the rest (Gauntlet's tokens, providers' keys): the package's install
 * scripts are third-party code running on the host.
 */
const NPM_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LC_[A-Z_]+|TZ|TMPDIR|TERM|npm_config_\w+|NPM_CONFIG_\w+|NPM_TOKEN|(?:HTTPS?|NO|ALL)_PROXY|(?:https?|no|all)_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_(?:FILE|DIR)|NODE_OPTIONS|NVM_\w+|XDG_\w+)$/;

/**
 * The XDG base folders install scripts see: a scratch folder, not the operator's. npm keeps using
 * HOME (its config and cache); a script that runs the program it installed (opencode's runs
 * `opencode --version`, which creates its config, data, cache and state folders) leaves them there.
 */
const XDG_BASES = { XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', XDG_STATE_HOME: 'state' } as const;

function npmEnvironment(scratch: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = { npm_config_update_notifier: 'false' };
  for (const [name, value] of Object.entries(env)) if (value !== undefined && NPM_ENV.test(name)) kept[name] = value;
  for (const [name, folder] of Object.entries(XDG_BASES)) kept[name] = join(scratch, folder);
  return kept;
}

function runNpm(npm: string, args: string[], options: { timeoutMs: number; scratch: string }): Promise<void> {
  const { timeoutMs } = options;
  return new Promise((resolve, reject) => {
    // Its own process group: a timeout stops npm and every install script under it, not npm alone.
    const child = spawn(npm, args, { stdio: ['ignore', 'ignore', 'pipe'], env: npmEnvironment(options.scratch), detached: true });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-16_384)));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timerDelay(timeoutMs));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'exit', not 'close': a script's orphan holding stderr open must not hold the install.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Whatever npm started and left behind goes with it.
      killGroup();
      child.stderr.destroy();
      if (code === 0 && !timedOut) return resolve();
      const tail = stderr.trim().split('\n').slice(-8).join('\n');
      reject(new Error(`${timedOut ? `timed out after ${timeoutMs} ms` : `exit ${String(code ?? signal)}`}${tail ? `:\n${tail}` : ''}`));
    });
  });
}

/**
 * The agent's install folder, installing it first when the cache lacks it. A failed install
 * (offline, registry down, a bad version) is an InfraError naming the package and npm's own words;
 * nothing half-installed is left where a later call would take it for complete.
 */
export async function ensureAgentInstalled(spec: AgentSpec, options: InstallOptions = {}): Promise<InstalledAgent> {
  const cacheDir = options.cacheDir ?? defaultAgentCache();
  const dir = agentInstallDir(spec, cacheDir);
  if (await installedMarker(dir, spec)) return { spec, dir, installed: false };
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 600_000;
  await mkdir(cacheDir, { recursive: true });
  const release = await acquireLock(`${dir}.lock`, { staleMs: options.staleLockMs ?? timeoutMs, now });
  try {
    // Another process may have finished it while we waited for the lock.
    if (await installedMarker(dir, spec)) return { spec, dir, installed: false };
    // Under the lock, any other staging folder of this package is a killed install's leftover (hundreds of MB).
    const prefix = `${basename(dir)}.staging-`;
    for (const entry of await readdir(dirname(dir))) if (entry.startsWith(prefix)) await rm(join(dirname(dir), entry), { recursive: true, force: true });
    const staging = `${dir}.staging-${process.pid}`;
    await mkdir(staging, { recursive: true });
    const started = now();
    const pkg = `${spec.packageName}@${spec.version}`;
    const scratch = await mkdtemp(join(tmpdir(), 'gauntlet-agent-install-'));
    try {
      await runNpm(options.npm ?? 'npm', ['install', '--prefix', staging, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...(options.npmArgs ?? []), pkg], { timeoutMs, scratch });
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw new InfraError('sandbox', `could not install external agent ${spec.name} (${pkg}) into ${cacheDir}: npm install failed (offline or registry unreachable?): ${errorMessage(error)}`, { retryable: false, cause: error });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const bin = join(staging, 'node_modules', '.bin', spec.launch({ baseUrl: 'http://127.0.0.1/v1', model: 'm', prompt: 'p' }).bin);
    if (!existsSync(bin)) {
      await rm(staging, { recursive: true, force: true });
      throw new InfraError('sandbox', `installed ${pkg} but it has no ${bin} program`, { retryable: false });
    }
    await writeFile(join(staging, MARKER), JSON.stringify({ package: spec.packageName, version: spec.version, installedAt: new Date(now()).toISOString() }));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return { spec, dir, installed: true, installMs: now() - started };
  } finally {
    await release();
  }
}
