// Support for the external-agent tests: a fake engine answering in each agent's own shell tool,
// a gateway in front of it, and one coding episode driven by an agent end to end.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { memoryRecorder, rolloutIdFor, type AttemptIdentity, type Environment, type ModelCall, type RolloutRecorder, type RunId, type Task } from '../../src/core/index.ts';
import { getEnvironment } from '../../src/envs/index.ts';
import { runEpisode, type EpisodeOutcome } from '../../src/runner/index.ts';
import { agentSpec, externalAgentDriver, startJailed, type InstalledAgent } from '../../src/training/agents/index.ts';
import { startFakeEngine, type FakeEngine } from '../../src/training/fake-engine/index.ts';
import { startGateway, type Gateway } from '../../src/training/gateway/index.ts';
import { shellPolicy } from '../../src/training/agents/index.ts';

/** The inventory task's two bugs, fixed with sed as any shell user would. */
export const INVENTORY_TASK = 'coding/inventory-pagination';
export const INVENTORY_FIX = [
  "sed -i 's|totalPages: Math.floor(all.length / pageSize),|totalPages: Math.ceil(all.length / pageSize),|; s|item.quantity < item.reorderLevel|item.quantity <= item.reorderLevel|' src/inventory.js",
];

export interface Stack {
  engine: FakeEngine;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startStack(commands: readonly string[] = INVENTORY_FIX): Promise<Stack> {
  // Qwen-code asks for 32k output tokens: the engine's context must leave room (Qwen3 serves 128k with YaRN).
  const engine = await startFakeEngine({ maxModelLen: 131_072, policy: shellPolicy({ commands, answer: 'Fixed the page count and the low-stock comparison.' }) });
  const gateway = await startGateway({ upstream: engine.url, engine: 'vllm' });
  return {
    engine,
    gateway,
    close: async () => {
      await gateway.close();
      await engine.close();
    },
  };
}

export function codingTask(id: string): Task {
  const task = getEnvironment('coding').tasks().find((t) => t.id === id);
  if (!task) throw new Error(`no coding task ${id}`);
  return task;
}

export interface DrivenEpisode {
  outcome: EpisodeOutcome;
  calls: ModelCall[];
  events: ReturnType<typeof memoryRecorder>['events'];
  /** When each of `events` was recorded (epoch ms, this process's clock), index for index. */
  eventTimes: number[];
}

export async function driveEpisode(a: { stack: Stack; agent: InstalledAgent; task: Task; deadlineMs?: number }): Promise<DrivenEpisode> {
  const memory = memoryRecorder();
  const eventTimes: number[] = [];
  const recorder: RolloutRecorder = {
    modelCall: (call) => memory.modelCall(call),
    event: (type, data, at) => {
      eventTimes.push(Date.now());
      memory.event(type, data, at);
    },
  };
  const runId = 'run-agents' as RunId;
  const identity: AttemptIdentity = { runId, rolloutId: rolloutIdFor(runId, a.task.id, 0), attempt: 1 };
  const driver = externalAgentDriver({ agent: a.agent, gateway: a.stack.gateway, model: a.stack.engine.model });
  const outcome = await runEpisode({
    definition: getEnvironment('coding'),
    task: a.task,
    seed: 1,
    sandbox: 'bwrap',
    deadlineMs: a.deadlineMs ?? 120_000,
    graceMs: 10_000,
    now: Date.now,
    recorder,
    drive: (episode, { deadlineAt, signal }) => driver.drive({ task: a.task, episode, identity, recorder, deadlineAt, now: Date.now, ...(signal ? { signal } : {}) }),
  });
  return { outcome, calls: memory.calls, events: memory.events, eventTimes };
}

/**
 * How an agent's own run went, from its recorded events and calls: how long from its start to its
 * first model request, and how long it kept running after its last answer arrived.
 */
export function agentTimings(episode: Pick<DrivenEpisode, 'calls' | 'events' | 'eventTimes'>): { startupMs: number; lingerMs: number; durationMs: number } {
  const index = episode.events.findIndex((e) => e.type === 'world_event' && e.data.event === 'agent_started');
  const exited = episode.events.find((e) => e.type === 'world_event' && e.data.event === 'agent_exited');
  const first = episode.calls[0];
  const last = episode.calls.at(-1);
  if (index < 0 || !exited || exited.type !== 'world_event' || !first || !last) throw new Error('agentTimings: the episode has no agent_started and agent_exited events, or no model call');
  // agent_started is recorded just before the sandbox is set up, and durationMs counts from the end of
  // that set-up: start-up comes out longer, and the time after the last answer shorter, by its few ms.
  const startedAt = episode.eventTimes[index]!;
  const durationMs = (exited.data.params as { durationMs: number }).durationMs;
  return { startupMs: Date.parse(first.startedAt) - startedAt, lingerMs: startedAt + durationMs - (Date.parse(last.startedAt) + last.latencyMs), durationMs };
}

/**
 * Null when the agent is installed or the npm registry answers; else the reason to skip (printed).
 * Only an unreachable registry skips: a failed install with the registry up fails the test.
 */
export async function registrySkipReason(installed: boolean): Promise<string | null> {
  if (installed) return null;
  const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  try {
    const response = await fetch(`${registry}-/ping`, { signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    return null;
  } catch (error) {
    return `the npm registry ${registry} is unreachable (${(error as Error).message}); external agents cannot be installed here`;
  }
}

/** A stand-in agent install: `node_modules/.bin/<name>` scripts run by node, for sandbox and failure tests. */
export function fakeAgentDir(programs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-fake-agent-'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  for (const [name, source] of Object.entries(programs)) {
    const path = join(dir, 'node_modules', '.bin', name);
    writeFileSync(path, `#!/usr/bin/env node\n${source}`);
    chmodSync(path, 0o755);
  }
  return dir;
}

/** Runs inside the sandbox: tries each address and a name lookup (argv[4]), prints what happened as JSON. */
export const PROBE_PROGRAM = `
const net = require('node:net');
const dns = require('node:dns');
const targets = JSON.parse(process.argv[2]);
const tryConnect = ({ host, port }) => new Promise((resolve) => {
  const socket = net.connect({ host, port, timeout: 3000 });
  socket.once('connect', () => { socket.destroy(); resolve('connected'); });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (error) => resolve(error.code ?? error.message));
});
(async () => {
  const results = {};
  for (const target of targets) results[target.host + ':' + target.port] = await tryConnect(target);
  const health = await fetch(process.argv[3]).then((r) => r.status, (e) => String(e.cause?.code ?? e.message));
  const started = Date.now();
  const resolved = await dns.promises.lookup(process.argv[4]).then((a) => a.address, (e) => e.code ?? e.message);
  process.stdout.write(JSON.stringify({ results, health, lookup: { host: process.argv[4], resolved, ms: Date.now() - started } }));
})();
`;

/**
 * An environment whose files are a plain folder on the host and whose `run_command` is `sh -c`
 * there: enough for the driver's file transfer, for tests that drive an agent without the runner.
 * With `honourSignal`, a call under an aborted signal fails as an environment tool would.
 */
export function hostEnvironment(dir: string, options: { honourSignal?: boolean } = {}): Environment {
  const run = (command: string) =>
    new Promise<string>((resolve, reject) => execFile('sh', ['-c', command], { cwd: dir, maxBuffer: 256 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout))));
  const environment: Partial<Environment> = {
    name: 'host-files',
    tools: () => ['run_command', 'write_file'].map((name) => ({ name, description: name, parameters: {} })),
    async call(tool, args, { signal }) {
      if (options.honourSignal && signal.aborted) return { ok: false, kind: 'transient', error: 'aborted' };
      const a = args as { command?: string; path?: string; content?: string };
      if (tool === 'run_command') return { ok: true, content: await run(a.command ?? '') };
      mkdirSync(dirname(join(dir, a.path ?? '')), { recursive: true });
      writeFileSync(join(dir, a.path ?? ''), a.content ?? '');
      return { ok: true, content: 'written' };
    },
  };
  return environment as Environment;
}

/** One episode played by `agent` straight through its driver, on `hostEnvironment(dir)`: no runner, no environment sandbox. */
export async function driveOnHost(a: { gateway: Pick<Gateway, 'url' | 'attach'>; agent: InstalledAgent; dir: string; deadlineMs?: number; signal?: AbortSignal; honourSignal?: boolean }) {
  const recorder = memoryRecorder();
  const task = codingTask(INVENTORY_TASK);
  const runId = 'run-agents-host' as RunId;
  const identity: AttemptIdentity = { runId, rolloutId: rolloutIdFor(runId, `${task.id}-${a.dir}`, 0), attempt: 1 };
  const driver = externalAgentDriver({ agent: a.agent, gateway: a.gateway, model: 'fake-model' });
  const episode = { environment: hostEnvironment(a.dir, { honourSignal: a.honourSignal ?? false }), close: async () => {} };
  const result = await driver.drive({ task, episode, identity, recorder, deadlineAt: Date.now() + (a.deadlineMs ?? 60_000), now: Date.now, ...(a.signal ? { signal: a.signal } : {}) });
  return { result, calls: recorder.calls, events: recorder.events };
}

/** A stand-in agent: `spec` is pi's with the program replaced by `program`, given the base URL as its one argument. */
export function fakeAgent(name: string, program: string, extra: Record<string, string> = {}): InstalledAgent {
  const spec = { ...agentSpec('pi'), name, launch: ({ baseUrl }: { baseUrl: string }) => ({ homeFiles: {}, env: {}, bin: name, args: [baseUrl] }) };
  return { spec, dir: fakeAgentDir({ [name]: program, ...extra }), installed: false };
}

/** Runs a program (from `fakeAgentDir`) in the agent's sandbox to its end: its exit code and output. */
export async function runJailedToEnd(options: Parameters<typeof startJailed>[0]): Promise<{ code: unknown; out: string; err: string }> {
  const jailed = await startJailed(options);
  let out = '';
  let err = '';
  jailed.child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  jailed.child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise((resolve) => jailed.child.once('close', resolve));
  await jailed.dispose();
  return { code, out, err };
}
