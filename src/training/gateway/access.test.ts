// Who may use the gateway: anyone on loopback; beyond it only holders of the bearer token, which is
// checked on every TCP request and never reaches the upstream.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerGatewayCommand } from '../../cli/commands/gateway.ts';
import type { CliIo } from '../../cli/io.ts';
import { InputError } from '../../core/index.ts';
import { startFakeEngine, toolWalkPolicy, type FakeEngine } from '../fake-engine/index.ts';
import { startGateway } from './index.ts';

const CHAT = { messages: [{ role: 'user', content: 'hi' }] };
const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(CHAT) });

function quietIo(env: Record<string, string>): CliIo {
  return { interactive: false, env, stdout: () => {}, stderr: () => {} } as CliIo;
}

describe('gateway access', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 1 }) });
  });
  after(() => engine.close());

  it('refuses a bind beyond loopback without a token before it listens or calls the upstream', async () => {
    let upstreamCalls = 0;
    const counting: typeof fetch = (input, init) => {
      upstreamCalls++;
      return fetch(input, init);
    };
    await assert.rejects(
      startGateway({ upstream: engine.url, host: '0.0.0.0', port: 0, fetch: counting }),
      (error: unknown) => error instanceof InputError && error.where === 'host' && /GAUNTLET_TOKEN/.test(error.message),
    );
    assert.equal(upstreamCalls, 0);
  });

  it('gauntlet gateway --host 0.0.0.0 without a token fails naming --host, before opening the store', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-gateway-access-')), 'g.db');
    const program = new Command('gauntlet').exitOverride();
    registerGatewayCommand(program, quietIo({}), { stop: Promise.resolve() });
    await assert.rejects(
      program.parseAsync(['node', 'gauntlet', 'gateway', '--upstream', engine.url, '--host', '0.0.0.0', '--port', '0', '--run', 'run_x', '--store', store]),
      (error: unknown) => error instanceof InputError && error.where === '--host',
    );
    assert.equal(existsSync(store), false);
    const empty = new Command('gauntlet').exitOverride();
    registerGatewayCommand(empty, quietIo({ GAUNTLET_TOKEN: ' ' }), { stop: Promise.resolve() });
    await assert.rejects(
      empty.parseAsync(['node', 'gauntlet', 'gateway', '--upstream', engine.url, '--port', '0']),
      (error: unknown) => error instanceof InputError && error.where === 'GAUNTLET_TOKEN',
    );
  });

  it('with a token, answers 401 without it and serves with it, never passing it upstream', async () => {
    const sent: (string | null)[] = [];
    const watching: typeof fetch = (input, init) => {
      sent.push(new Headers(init?.headers).get('authorization'));
      return fetch(input, init);
    };
    const gateway = await startGateway({ upstream: engine.url, port: 0, engine: 'vllm', token: 'gate-secret', fetch: watching });
    try {
      const bare = await post(`${gateway.url}/v1/chat/completions`);
      assert.equal(bare.status, 401);
      assert.match(await bare.text(), /missing or wrong gateway token/);
      assert.equal((await post(`${gateway.url}/rollouts/ro_1/v1/chat/completions`, { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await fetch(`${gateway.url}/health`)).status, 401);
      assert.equal(sent.length, 0, 'nothing refused reached the upstream');
      const bearer = await post(`${gateway.url}/v1/chat/completions`, { authorization: 'Bearer gate-secret' });
      assert.equal(bearer.status, 200, await bearer.clone().text());
      const anthropicStyle = await post(`${gateway.url}/v1/chat/completions`, { 'x-api-key': 'gate-secret' });
      assert.equal(anthropicStyle.status, 200);
      assert.ok(sent.length >= 2);
      assert.ok(sent.every((header) => header === null || !header.includes('gate-secret')), `the upstream saw ${JSON.stringify(sent)}`);
    } finally {
      await gateway.close();
    }
  });
});
