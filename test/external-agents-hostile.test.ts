// External agent programs that misbehave, played straight through the driver on a host folder
// (no runner, no environment sandbox): each stand-in agent is a small Node program in bwrap.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memoryRecorder, rolloutIdFor, type RunId } from '../src/core/index.ts';
import { sandboxAvailability } from '../src/sandbox/index.ts';
import { startGateway } from '../src/training/gateway/index.ts';
import { FORWARD_PORT, MAX_RELAY_CONNECTIONS, MAX_WRITE_BACK_BYTES, MAX_WRITE_BACK_FILES } from '../src/training/agents/index.ts';
import { driveOnHost, fakeAgent, fakeAgentDir, runJailedToEnd, startStack } from './external-agents/harness.ts';
import { processesWhere } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

const bwrapReason = async () => {
  const { bwrap } = await sandboxAvailability();
  return bwrap.available ? null : `bubblewrap cannot run here: ${bwrap.reason ?? 'unavailable'}`;
};

/** A task folder with one file, as the environment would hold it. */
function taskDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-hostile-task-'));
  writeFileSync(join(dir, 'README.md'), 'fix me\n');
  return dir;
}

/** Host processes running the stand-in agent program `name` (its path inside the sandbox is in their argv). */
const agentProcesses = (name: string) => processesWhere((argv) => argv.some((arg) => arg.endsWith(`/node_modules/.bin/${name}`)));

/** A port nothing listens on: an engine that is down. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const HANG = 'setInterval(() => {}, 60_000);';

describe('a cancelled rollout and its external agent', () => {
  it('a cancel that came before the agent started still stops it: cancelled, nothing left running, long before the deadline', { timeout: 30_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const stack = await startStack();
    const name = `hang-before-start-${process.pid}`;
    try {
      const controller = new AbortController();
      controller.abort();
      // The environment's tools ignore the signal here, so the transfer succeeds and the agent is launched.
      const { result } = await driveOnHost({ gateway: stack.gateway, agent: fakeAgent(name, HANG), dir: taskDir(), deadlineMs: 120_000, signal: controller.signal });
      assert.equal(result.terminationReason, 'cancelled');
      await waitFor(() => agentProcesses(name).length === 0, `no ${name} process left`);
    } finally {
      await stack.close();
    }
  });

  it('a cancel that fails the file transfer is the cancel, not an environment infra error', { timeout: 30_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const stack = await startStack();
    try {
      const controller = new AbortController();
      controller.abort();
      const { result } = await driveOnHost({ gateway: stack.gateway, agent: fakeAgent(`hang-transfer-${process.pid}`, HANG), dir: taskDir(), signal: controller.signal, honourSignal: true });
      assert.equal(result.terminationReason, 'cancelled');
      assert.equal(result.infraError, undefined);
    } finally {
      await stack.close();
    }
  });
});

describe('an external agent whose model endpoint is down', () => {
  it('exiting 0 after its only call failed is the model\'s infra error, never a scored answer', { timeout: 30_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const gateway = await startGateway({ upstream: `http://127.0.0.1:${await deadPort()}/v1`, engine: 'vllm' });
    try {
      // Like an agent that prints the API error and ends its one-shot run normally.
      const program = `
        fetch(process.argv[2] + '/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] }) })
          .then((r) => { console.log('the model answered ' + r.status + '; giving up'); process.exit(0); });`;
      const { result, calls } = await driveOnHost({ gateway, agent: fakeAgent('polite-quitter', program), dir: taskDir() });
      assert.equal(calls.length, 1);
      assert.ok(calls[0]!.error, 'the gateway recorded the failed call');
      assert.equal(result.terminationReason, 'infra_error', JSON.stringify(result));
      assert.equal(result.infraError?.source, 'model');
      assert.match(result.infraError?.message ?? '', /polite-quitter.*exited with code 0; its last model call failed/);
    } finally {
      await gateway.close();
    }
  });
});

describe('an external agent reaching around its rollout through the gateway', () => {
  it('gets only its own rollout\'s model routes: no unrecorded pass-through, no other rollout, no opting out of the record', { timeout: 30_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const stack = await startStack(['true']);
    // Another rollout on the same gateway, as a run with concurrency > 1 has.
    const victim = memoryRecorder();
    const victimId = rolloutIdFor('run-victim' as RunId, 'task', 0);
    const detachVictim = stack.gateway.attach({ identity: { runId: 'run-victim' as RunId, rolloutId: victimId, attempt: 1 }, recorder: victim });
    try {
      const program = `
        const base = process.argv[2];
        const origin = new URL(base).origin;
        const body = JSON.stringify({ model: ${JSON.stringify(stack.engine.model)}, messages: [{ role: 'user', content: 'hi' }] });
        const post = (url, headers = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status, (e) => String(e));
        (async () => {
          const statuses = {
            passThrough: await post(origin + '/v1/chat/completions'),
            otherRollout: await post(origin + '/rollouts/${victimId}/v1/chat/completions'),
            otherByHeader: await post(origin + '/v1/chat/completions', { 'x-gauntlet-rollout': '${victimId}' }),
            dotDot: await post(base + '/../../${victimId}/v1/chat/completions'),
            notRecorded: await post(base + '/chat/completions', { 'x-gauntlet-recorded-by': 'client' }),
            own: await post(base + '/chat/completions'),
          };
          process.stdout.write(JSON.stringify(statuses));
        })();`;
      const { result, calls } = await driveOnHost({ gateway: stack.gateway, agent: fakeAgent('route-hopper', program), dir: taskDir() });
      assert.equal(result.terminationReason, 'answered', JSON.stringify(result));
      const statuses = JSON.parse(result.answer ?? '{}') as Record<string, number | string>;
      assert.equal(statuses.own, 200);
      assert.equal(victim.calls.length, 0, 'nothing was recorded into another rollout');
      // Every call the engine served is in this rollout's record: none went around it.
      const health = (await (await fetch(`${stack.gateway.url}/health`)).json()) as { unrecorded: number; clientRecorded: number };
      assert.equal(health.unrecorded, 0, JSON.stringify(statuses));
      assert.equal(health.clientRecorded, 0, JSON.stringify(statuses));
      assert.equal(calls.length, 1 + (statuses.notRecorded === 200 ? 1 : 0));
      for (const key of ['passThrough', 'otherRollout', 'otherByHeader', 'dotDot']) assert.notEqual(statuses[key], 200, `${key}: ${JSON.stringify(statuses)}`);
    } finally {
      detachVictim();
      await stack.close();
    }
  });
});

describe('an external agent flooding its way out', () => {
  it(`holds at most ${MAX_RELAY_CONNECTIONS} connections open on the host, whatever it opens inside`, { timeout: 30_000 }, async (t) => {
    const skip = await bwrapReason();
    if (skip) return t.skip(skip);
    const stack = await startStack();
    const workDir = mkdtempSync(join(tmpdir(), 'gauntlet-flood-work-'));
    // Each socket asks for the health check and keeps its connection (HTTP/1.1 keep-alive); it reports which were answered.
    const program = `
      const net = require('node:net');
      const opened = 300;
      let answered = 0, closed = 0;
      const done = () => { if (answered + closed === opened) process.stdout.write(JSON.stringify({ answered, closed })), process.exit(0); };
      for (let i = 0; i < opened; i++) {
        const socket = net.connect(${FORWARD_PORT}, '127.0.0.1', () => socket.write('GET /rollouts/ro_flood/health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
        let settled = false;
        const settle = (ok) => { if (!settled) { settled = true; ok ? answered++ : closed++; done(); } };
        socket.on('data', (data) => { if (/^HTTP\\/1\\.1 200/.test(data.toString())) settle(true); });
        socket.on('close', () => settle(false));
        socket.on('error', () => settle(false));
      }`;
    try {
      const { code, out, err } = await runJailedToEnd({
        workDir,
        agentDir: fakeAgentDir({ flood: program }),
        bin: 'flood',
        args: [],
        env: {},
        homeFiles: {},
        gateway: { host: '127.0.0.1', port: Number(new URL(stack.gateway.url).port) },
        route: '/rollouts/ro_flood',
      });
      assert.equal(code, 0, err);
      const report = JSON.parse(out) as { answered: number; closed: number };
      assert.ok(report.answered > 0, out);
      assert.ok(report.answered <= MAX_RELAY_CONNECTIONS, out);
    } finally {
      await stack.close();
    }
  });
});

describe('an external agent leaving more than may come back', () => {
  /** Calls the model once (so a plain run would be scored), runs `leave` in its work dir, and exits 0. */
  const leaving = (model: string, leave: string) => `
    const fs = require('node:fs');
    fetch(process.argv[2] + '/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: ${JSON.stringify(model)}, messages: [{ role: 'user', content: 'hi' }] }) })
      .then(async (r) => { await r.text(); ${leave}; console.log('done'); process.exit(0); });`;

  const cases = [
    { what: `more than ${MAX_WRITE_BACK_FILES} new files`, limit: String(MAX_WRITE_BACK_FILES), leave: `fs.mkdirSync('out'); for (let i = 0; i <= ${MAX_WRITE_BACK_FILES}; i++) fs.writeFileSync('out/f' + i, 'x')` },
    { what: `a task file grown past ${MAX_WRITE_BACK_BYTES} bytes`, limit: String(MAX_WRITE_BACK_BYTES), leave: `fs.writeFileSync('README.md', Buffer.alloc(${MAX_WRITE_BACK_BYTES + 1}, 97))` },
  ];
  for (const c of cases) {
    it(`${c.what}: the agent's infra error naming the limit, nothing written back`, { timeout: 60_000 }, async (t) => {
      const skip = await bwrapReason();
      if (skip) return t.skip(skip);
      const stack = await startStack(['true']);
      const dir = taskDir();
      try {
        const { result, events } = await driveOnHost({ gateway: stack.gateway, agent: fakeAgent(`hoarder-${process.pid}`, leaving(stack.engine.model, c.leave)), dir });
        assert.equal(result.terminationReason, 'infra_error', JSON.stringify(result).slice(0, 500));
        assert.equal(result.infraError?.source, 'agent');
        assert.equal(result.infraError?.kind, 'output_too_large');
        assert.match(result.infraError?.message ?? '', new RegExp(`hoarder-${process.pid}@.*more than ${c.limit}.*nothing was written back`));
        assert.deepEqual(readdirSync(dir), ['README.md'], 'nothing came back into the environment');
        assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), 'fix me\n');
        const exited = events.find((e) => (e.data as { event?: string }).event === 'agent_exited');
        assert.ok(exited, 'agent_exited recorded');
      } finally {
        await stack.close();
      }
    });
  }
});
