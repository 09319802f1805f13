// Tests for `gauntlet gateway` (src/cli/commands/gateway.ts), kept beside the gateway because the
// command is a thin wrapper over it.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerGatewayCommand } from '../../cli/commands/gateway.ts';
import type { CliIo } from '../../cli/io.ts';
import { InputError } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { startFakeEngine, toolWalkPolicy, type FakeEngine } from '../fake-engine/index.ts';
import type { Gateway } from './index.ts';
import { postJson } from './test-support.ts';
import { fillConnections, getHead } from '../../../test/support/raw-sockets.ts';

function captureIo(env: Record<string, string> = {}): CliIo & { err: string } {
  const io = { out: '', err: '', interactive: false, env } as CliIo & { out: string; err: string };
  io.stdout = (text) => void (io.out += text);
  io.stderr = (text) => void (io.err += text);
  return io;
}

/** Runs the command in a fresh program until `use` is done with the gateway; returns what it wrote to stderr. */
async function runCommand(args: string[], use: (gateway: Gateway) => Promise<void>, env: Record<string, string> = {}): Promise<string> {
  const io = captureIo(env);
  let release!: () => void;
  const stop = new Promise<void>((resolve) => (release = resolve));
  let failure: unknown;
  const program = new Command('gauntlet').exitOverride();
  registerGatewayCommand(program, io, {
    stop,
    onReady: (gateway) => {
      use(gateway).then(release, (error: unknown) => {
        failure = error;
        release();
      });
    },
  });
  await program.parseAsync(['node', 'gauntlet', 'gateway', '--port', '0', ...args]);
  if (failure) throw failure;
  return io.err;
}

describe('gauntlet gateway', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 1 }) });
  });
  after(() => engine.close());

  it('records rollouts into the --run, says where, and reports what it did when it stops', { timeout: 60_000 }, async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-gateway-cli-')), 'g.db');
    const stderr = await runCommand(['--upstream', engine.url, '--run', 'run_cli', '--store', store, '--engine', 'vllm'], async (gateway) => {
      const reply = await postJson(`${gateway.url}/rollouts/ro_cli/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(reply.status, 200);
      assert.equal((await postJson(`${gateway.url}/rollouts/ro_cli/finish`, { reward: 1, passed: true })).status, 200);
      await postJson(`${gateway.url}/rollouts/ro_cli_open/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
    });
    assert.match(stderr, /gateway on http:\/\/127\.0\.0\.1:\d+ in front of http:\/\/127\.0\.0\.1:\d+\/v1 \(engine vllm\)/);
    assert.match(stderr, /recording rollouts into run run_cli/);
    assert.match(stderr, /gateway stopped: 3 requests, 2 recorded, 0 failed, 0 refused; 1 rollouts finished, 1 still open stored as cancelled/);
    const stored = openStore(store);
    assert.deepEqual(
      stored.rollouts('run_cli').map((r) => [r.id, r.status, r.passed]),
      [
        ['ro_cli', 'scored', true],
        ['ro_cli_open', 'cancelled', null],
      ],
    );
    assert.equal(stored.getRun('run_cli')!.status, 'finished');
    stored.close();
  });

  it('closes connections past --max-connections as they arrive, and names the flag when it is out of range', async () => {
    await runCommand(['--upstream', engine.url, '--engine', 'vllm', '--max-connections', '1'], async (gateway) => {
      const { answers, extra, sockets } = await fillConnections(gateway.url, 1, getHead('/health', 'localhost'));
      for (const raw of sockets) raw.socket.destroy();
      assert.deepEqual([answers, extra], [['HTTP/1.1 200 OK'], null]);
    });
    await assert.rejects(runCommand(['--upstream', engine.url, '--max-connections', '0'], async () => {}), (error: unknown) => error instanceof InputError && error.where === '--max-connections' && /from 1 to 1000000/.test(error.message));
  });

  it('refuses an upstream URL carrying a key, naming the flag and where the key belongs', async () => {
    await assert.rejects(
      runCommand(['--upstream', 'http://user:secret@127.0.0.1:8000/v1'], async () => {}),
      (error: unknown) => error instanceof InputError && error.where === '--upstream' && /GAUNTLET_UPSTREAM_API_KEY/.test(error.message) && !error.message.includes('secret'),
    );
  });

  it('sends the key from GAUNTLET_UPSTREAM_API_KEY to the upstream, and only there', async () => {
    let seen: string | undefined;
    const { createServer } = await import('node:http');
    const upstream = createServer((req, res) => {
      seen = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'm', owned_by: 'vllm' }] }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as { port: number }).port;
    try {
      await runCommand(['--upstream', `http://127.0.0.1:${port}/v1`], async (gateway) => {
        const models = await fetch(`${gateway.url}/v1/models`);
        assert.equal(models.status, 200);
      }, { GAUNTLET_UPSTREAM_API_KEY: 'sk-upstream' });
      assert.equal(seen, 'Bearer sk-upstream');
    } finally {
      upstream.close();
    }
  });
});
