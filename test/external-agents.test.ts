// External agents (pi, codex, qwen-code, opencode) solving a coding task inside bubblewrap against
// the fake engine, every call recorded by the gateway; their sandbox reaches nothing but the gateway.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { Command } from 'commander';
import { registerWorkerCommand } from '../src/cli/commands/worker.ts';
import type { CliIo } from '../src/cli/io.ts';
import { main } from '../src/cli/main.ts';
import { InputError } from '../src/core/index.ts';
import { resolveRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { sandboxAvailability } from '../src/sandbox/index.ts';
import { AGENT_INFRA_SOURCE, agentInstallDir, agentSpec, ensureAgentInstalled, FORWARD_PORT, jailArgs, TESTED_AGENTS } from '../src/training/agents/index.ts';
import { startRedis, type RedisServer } from './queue-support.ts';
import { agentTimings, codingTask, driveEpisode, fakeAgentDir, INVENTORY_TASK, PROBE_PROGRAM, registrySkipReason, runJailedToEnd, startStack, type Stack } from './external-agents/harness.ts';

/**
 * How long an agent may keep running after its last answer arrived. Ending takes them well under
 * 2 s on a quiet machine; the bound leaves room for a loaded one, and still catches an agent that
 * waits out what it started in the background offline (opencode's plugin install: npm's fetch
 * retries run to a minute) instead of ending with its answer.
 */
const LINGER_LIMIT_MS = 20_000;

const bwrapReason = async () => {
  const { bwrap } = await sandboxAvailability();
  return bwrap.available ? null : `bubblewrap cannot run here: ${bwrap.reason ?? 'unavailable'}`;
};

/** The CLI's io, captured, with the agent cache and home of this process. */
function agentIo(): CliIo & { out: string; err: string } {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    interactive: false,
    env: { GAUNTLET_CACHE: process.env.GAUNTLET_CACHE, HOME: process.env.HOME },
    stdout: (text) => void (io.out += text),
    stderr: (text) => void (io.err += text),
  };
  return io;
}

describe('external agents end to end (fake engine, gateway, bwrap)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  for (const name of TESTED_AGENTS.filter((n) => n !== 'pi')) {
    it(`${name} fixes the inventory task with its own shell tool; the verifier passes it and the gateway recorded every call`, { timeout: 240_000 }, async (t) => {
      const spec = agentSpec(name);
      const skip = (await bwrapReason()) ?? (await registrySkipReason(existsSync(agentInstallDir(spec))));
      if (skip) {
        console.log(`skipped ${name}: ${skip}`);
        return t.skip(skip);
      }
      const agent = await ensureAgentInstalled(spec);
      const episode = await driveEpisode({ stack, agent, task: codingTask(INVENTORY_TASK) });
      const { outcome, calls, events } = episode;
      assert.equal(outcome.kind, 'done', JSON.stringify(outcome).slice(0, 2000));
      assert.ok(outcome.kind === 'done' && outcome.verifier.passed, JSON.stringify(outcome).slice(0, 2000));
      // The command ran with the agent's own tool, and the answer came after it.
      assert.equal(calls.length, 2, `calls: ${calls.map((c) => c.response?.message.toolCalls.map((tc) => tc.name).join(',')).join(' | ')}`);
      assert.deepEqual(calls[0]!.response?.message.toolCalls.map((c) => c.name), [spec.shellTool.name]);
      assert.ok(calls[0]!.request.tools.some((tool) => tool.name === spec.shellTool.name));
      for (const call of calls) {
        assert.equal(call.response?.tokens?.source, 'engine');
        assert.ok((call.response.tokens.completionIds?.length ?? 0) > 0, 'engine token ids recorded');
      }
      const exited = events.find((e) => e.type === 'world_event' && e.data.event === 'agent_exited');
      assert.ok(exited && exited.type === 'world_event');
      assert.deepEqual((exited.data.params as { written: string[] }).written, ['src/inventory.js']);
      // Whatever it tried to reach offline in the background, it ended with its answer, not a time-out later.
      const timings = agentTimings(episode);
      console.log(`${name}: first request ${timings.startupMs} ms after start, exit ${timings.lingerMs} ms after the last answer, ${timings.durationMs} ms in all`);
      assert.ok(timings.lingerMs < LINGER_LIMIT_MS, `${name} ran on for ${timings.lingerMs} ms after its last answer`);
    });
  }

  it('gauntlet run --agent pi: a stored, scored rollout with the gateway\'s calls as its model calls', { timeout: 240_000 }, async (t) => {
    const spec = agentSpec('pi');
    const skip = (await bwrapReason()) ?? (await registrySkipReason(existsSync(agentInstallDir(spec))));
    if (skip) {
      console.log(`skipped pi: ${skip}`);
      return t.skip(skip);
    }
    const storePath = join(mkdtempSync(join(tmpdir(), 'gauntlet-agents-')), 'g.db');
    const io = agentIo();
    const args = ['run', '--env', 'coding', '--task', INVENTORY_TASK, '--agent', 'pi', '--sandbox', 'bwrap', '--model', `openai:${stack.engine.url}#${stack.engine.model}`, '--store', storePath, '--json'];
    const code = await main(['node', 'gauntlet', ...args], io);
    assert.equal(code, 0, io.err);
    const summary = JSON.parse(io.out) as { runId: string; passed: number; scored: number };
    assert.equal(summary.scored, 1, io.out);
    assert.equal(summary.passed, 1, io.out);
    const store = openStore(storePath);
    try {
      const run = store.getRun(summary.runId)!;
      assert.deepEqual(run.config.agent, { name: 'pi', version: spec.version });
      const [rollout] = store.rollouts(summary.runId);
      assert.ok(rollout);
      assert.equal(rollout.scaffold, 'agent:pi');
      const calls = store.modelCalls(rollout.id);
      assert.equal(calls.length, 2);
      assert.deepEqual(calls[0]!.response?.message.toolCalls.map((c) => c.name), ['bash']);
    } finally {
      store.close();
    }
  });
});

describe('the opencode install', () => {
  it('runs the program npm installed as its platform package: the install script links it and adds nothing of its own', { timeout: 240_000 }, async (t) => {
    const spec = agentSpec('opencode');
    const skip = await registrySkipReason(existsSync(agentInstallDir(spec)));
    if (skip) {
      console.log(`skipped opencode's install: ${skip}`);
      return t.skip(skip);
    }
    const { dir } = await ensureAgentInstalled(spec);
    const modules = join(dir, 'node_modules');
    const programPath = join(modules, 'opencode-ai', 'bin', 'opencode.exe');
    const platformPrograms = readdirSync(modules)
      .filter((name) => name.startsWith('opencode-') && name !== 'opencode-ai')
      .map((name) => join(modules, name, 'bin', 'opencode'))
      .filter((path) => existsSync(path));
    assert.ok(platformPrograms.length > 0, `no opencode-<platform> package in ${modules}`);
    // The install script links (same inode) or copies (same bytes) one of them, rather than fetching a program of its own.
    const program = statSync(programPath);
    const source = platformPrograms.find((path) => statSync(path).ino === program.ino) ?? platformPrograms.find((path) => readFileSync(path).equals(readFileSync(programPath)));
    assert.ok(source, `${programPath} is none of ${platformPrograms.join(', ')}`);
    // What is there is what npm installed and recorded: opencode-ai and its platform packages, each checked against its integrity hash.
    const lock = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8')) as { packages: Record<string, { integrity?: string }> };
    for (const [path, entry] of Object.entries(lock.packages)) {
      assert.match(path, /^node_modules\/opencode-[a-z0-9-]+$/, `npm installed ${path}`);
      assert.match(entry.integrity ?? '', /^sha512-/, `${path} has no integrity hash`);
    }
    const present = readdirSync(modules).filter((name) => !name.startsWith('.'));
    assert.deepEqual(present.sort(), Object.keys(lock.packages).map((path) => path.slice('node_modules/'.length)).sort());
  });
});

describe('an external agent on queue workers', () => {
  let redis: RedisServer | undefined;
  after(async () => redis?.stop());

  it('gauntlet run --agent pi --queue: a `gauntlet worker` installs pi and plays the episode; the coordinator stores it scored', { timeout: 240_000 }, async (t) => {
    const spec = agentSpec('pi');
    const skip = (await bwrapReason()) ?? (await registrySkipReason(existsSync(agentInstallDir(spec))));
    if (skip) {
      console.log(`skipped pi on a worker: ${skip}`);
      return t.skip(skip);
    }
    redis = await startRedis();
    const stack = await startStack();
    const workerIo = agentIo();
    let stop: () => void = () => {};
    const stopped = new Promise<'graceful'>((resolve) => (stop = () => resolve('graceful')));
    const workerProgram = new Command('gauntlet').exitOverride();
    registerWorkerCommand(workerProgram, workerIo, { untilStopped: () => stopped });
    const worker = workerProgram.parseAsync(['node', 'gauntlet', 'worker', '--queue', redis.url, '--concurrency', '1', '--json']);
    try {
      const storePath = join(mkdtempSync(join(tmpdir(), 'gauntlet-agents-')), 'g.db');
      const io = agentIo();
      const args = ['run', '--env', 'coding', '--task', INVENTORY_TASK, '--agent', 'pi', '--sandbox', 'bwrap', '--model', `openai:${stack.engine.url}#${stack.engine.model}`, '--store', storePath, '--queue', redis.url, '--json'];
      const code = await main(['node', 'gauntlet', ...args], io);
      assert.equal(code, 0, `${io.err}\n${workerIo.err}`);
      const summary = JSON.parse(io.out) as { runId: string; passed: number; scored: number };
      assert.equal(summary.scored, 1, io.out);
      assert.equal(summary.passed, 1, io.out);
      const store = openStore(storePath);
      try {
        const [rollout] = store.rollouts(summary.runId);
        assert.equal(rollout?.scaffold, 'agent:pi');
        const calls = store.modelCalls(rollout.id);
        assert.equal(calls.length, 2);
        assert.deepEqual(calls[0]!.response?.message.toolCalls.map((c) => c.name), ['bash']);
      } finally {
        store.close();
      }
      assert.match(workerIo.out, /"type":"finished"[^\n]*"status":"scored"/);
    } finally {
      stop();
      await worker;
      await stack.close();
    }
  });
});

describe('the agent sandbox', () => {
  it('reaches the gateway through its socket and nothing else: not a loopback server on the host, not the host\'s other addresses, no name server', { timeout: 60_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) {
      console.log(`skipped: ${skip}`);
      return t.skip(skip);
    }
    const stack = await startStack();
    const bystander = createServer((socket) => socket.end('reached'));
    await new Promise<void>((resolve) => bystander.listen(0, '0.0.0.0', resolve));
    const port = (bystander.address() as AddressInfo).port;
    let connections = 0;
    bystander.on('connection', () => connections++);
    const hostAddresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address);
    const targets = [{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: Number(new URL(stack.gateway.url).port) }, ...hostAddresses.map((host) => ({ host, port }))];
    const workDir = mkdtempSync(join(tmpdir(), 'gauntlet-probe-work-'));
    try {
      const { code, out, err } = await runJailedToEnd({
        workDir,
        agentDir: fakeAgentDir({ probe: PROBE_PROGRAM }),
        bin: 'probe',
        args: [JSON.stringify(targets), `http://127.0.0.1:${FORWARD_PORT}/rollouts/ro_probe/health`, 'registry.npmjs.org'],
        env: {},
        homeFiles: {},
        gateway: { host: '127.0.0.1', port: Number(new URL(stack.gateway.url).port) },
        route: '/rollouts/ro_probe',
      });
      assert.equal(code, 0, err);
      const report = JSON.parse(out) as { results: Record<string, string>; health: number | string; lookup: { resolved: string; ms: number } };
      assert.equal(report.health, 200, 'the gateway answers through the forwarder');
      assert.equal(Object.keys(report.results).length, targets.length);
      for (const [target, result] of Object.entries(report.results)) assert.notEqual(result, 'connected', `${target} was reachable from the sandbox`);
      assert.equal(connections, 0);
      // No name resolves, and the lookup fails at once rather than after a resolver's time-out (5 s a try):
      // what an agent starts in the background offline (opencode's plugin install) ends there.
      assert.match(report.lookup.resolved, /^E[A-Z_]+$/, `registry.npmjs.org resolved to ${report.lookup.resolved} in the sandbox`);
      // A resolver waiting for a name server would take its 5 s a try, twice; failing at once takes milliseconds.
      assert.ok(report.lookup.ms < 9_000, `the failed lookup took ${report.lookup.ms} ms`);
    } finally {
      bystander.close();
      await stack.close();
    }
  });

  it('runs the agent under --unshare-all with no network sharing, the install and system read-only', () => {
    const args = jailArgs({ workDir: '/w', agentDir: '/a', bin: 'pi', args: ['task'], env: {}, homeDir: '/h', supportDir: '/s', socketDir: '/k' });
    assert.ok(args.includes('--unshare-all'));
    assert.ok(!args.includes('--share-net'));
    assert.equal(args[args.indexOf('--cap-drop') + 1], 'ALL');
    const roBinds = args.flatMap((arg, i) => (arg === '--ro-bind' ? [`${args[i + 1]}->${args[i + 2]}`] : []));
    assert.ok(roBinds.includes('/a->/opt/agent'));
    assert.ok(roBinds.includes('/usr->/usr'));
    const rwBinds = args.flatMap((arg, i) => (arg === '--bind' ? [args[i + 2]] : []));
    assert.deepEqual(rwBinds.sort(), ['/home/agent', '/run/gauntlet', '/work']);
  });

  it('reports an agent that crashes before calling the model as an infra error naming it, never a score', { timeout: 60_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const stack = await startStack();
    try {
      const pi = agentSpec('pi');
      const crashing = { ...pi, name: 'crasher', launch: () => ({ homeFiles: {}, env: {}, bin: 'crash', args: [] }) };
      const agent = { spec: crashing, dir: fakeAgentDir({ crash: "process.stderr.write('cannot parse settings\\n'); process.exit(3);" }), installed: false };
      const { outcome, calls } = await driveEpisode({ stack, agent, task: codingTask(INVENTORY_TASK) });
      assert.equal(calls.length, 0);
      assert.equal(outcome.kind, 'infra', JSON.stringify(outcome));
      assert.ok(outcome.kind === 'infra');
      assert.equal(outcome.source, AGENT_INFRA_SOURCE);
      assert.match(outcome.message, /crasher.*exited \(code 3\) without calling the model/);
      assert.match(outcome.message, /cannot parse settings/);
    } finally {
      await stack.close();
    }
  });
});

describe('an agent that outlives the deadline', () => {
  it('is killed at the episode deadline and scored on the files as they are, as a deadline failure', { timeout: 60_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const stack = await startStack();
    try {
      const hanging = { ...agentSpec('pi'), name: 'hanger', launch: () => ({ homeFiles: {}, env: {}, bin: 'hang', args: [] }) };
      const agent = { spec: hanging, dir: fakeAgentDir({ hang: 'setInterval(() => {}, 60_000);' }), installed: false };
      const { outcome } = await driveEpisode({ stack, agent, task: codingTask(INVENTORY_TASK), deadlineMs: 4_000 });
      assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
      assert.ok(outcome.kind === 'done');
      assert.equal(outcome.result.terminationReason, 'deadline');
      assert.equal(outcome.verifier.passed, false);
    } finally {
      await stack.close();
    }
  });
});

describe('runs with an external agent', () => {
  const agent = { name: 'pi', version: '0.73.1' };
  const base = { epochs: 1, concurrency: 1, seed: 0, agent };

  it('are refused for environments whose work is not files', async () => {
    await assert.rejects(resolveRun({ ...base, envs: ['mail'], model: 'openai:http://127.0.0.1:9/v1#m' }), (error: unknown) => error instanceof InputError && error.where === 'agent' && /"mail" has no run_command/.test(error.message));
  });

  it('are refused for a model the gateway cannot stand in front of, and beside --gateway', async () => {
    await assert.rejects(resolveRun({ ...base, envs: ['coding'], model: 'oracle' }), (error: unknown) => error instanceof InputError && error.where === 'agent');
    await assert.rejects(
      resolveRun({ ...base, envs: ['coding'], model: 'openai:http://127.0.0.1:9/v1#m', gateway: 'http://127.0.0.1:8' }),
      (error: unknown) => error instanceof InputError && error.where === 'gateway',
    );
  });

  it('store the agent and its version in the run config', async () => {
    const resolved = await resolveRun({ ...base, envs: ['coding'], taskIds: [INVENTORY_TASK], model: 'openai:http://127.0.0.1:9/v1#m' });
    assert.deepEqual(resolved.config.agent, agent);
  });
});
