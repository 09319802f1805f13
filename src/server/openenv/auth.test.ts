import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket } from '../../../test/support/openenv-client.ts';
import { hasBearerToken, isLoopbackHost, requiredToken } from '../../core/index.ts';
import { startOpenEnvServer } from './server.ts';

describe('OpenEnv server access', () => {
  it('knows loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.8.0.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.2', '192.168.1.5', 'example.com', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });

  it('refuses to bind beyond loopback without a token, naming both ways to give one', async () => {
    assert.throws(() => requiredToken({ host: '0.0.0.0', token: undefined, exposes: 'drive the environment' }), (error: unknown) => error instanceof InputError && /--token/.test(error.message) && /GAUNTLET_TOKEN/.test(error.message));
    assert.throws(() => requiredToken({ host: '127.0.0.1', token: '  ', exposes: 'x' }), InputError);
    assert.equal(requiredToken({ host: '0.0.0.0', token: 's3cret', exposes: 'x' }), 's3cret');
    assert.equal(requiredToken({ host: '127.0.0.1', token: undefined, exposes: 'x' }), undefined);
    await assert.rejects(startOpenEnvServer({ env: 'mail', host: '0.0.0.0', port: 0 }), InputError);
  });

  it('compares bearer tokens exactly', () => {
    assert.equal(hasBearerToken('Bearer s3cret', 's3cret'), true);
    assert.equal(hasBearerToken('bearer s3cret', 's3cret'), true);
    for (const header of [undefined, '', 'Bearer', 'Bearer s3cre', 'Bearer s3cret!', 'Basic s3cret', 's3cret']) assert.equal(hasBearerToken(header, 's3cret'), false, String(header));
  });

  it('answers 401 to HTTP requests and WebSocket upgrades without the token, and serves those with it', async () => {
    const token = 'a-long-enough-secret';
    const server = await startOpenEnvServer({ env: 'mail', port: 0, token });
    try {
      const anonymous = new OpenEnvHttpClient(server.url);
      for (const reply of [await anonymous.health(), await anonymous.schema(), await anonymous.reset({}), await anonymous.rpc('tools/list')]) assert.equal(reply.status, 401);
      assert.equal((await new OpenEnvHttpClient(server.url, { token: 'wrong' }).health()).status, 401);
      await assert.rejects(OpenEnvSocket.connect(server.url), /HTTP 401/);
      await assert.rejects(OpenEnvSocket.connect(server.url, { path: '/mcp' }), /HTTP 401/);
      await assert.rejects(OpenEnvSocket.connect(server.url, { token: 'wrong' }), /HTTP 401/);
      assert.equal(server.stats().sessions, 0);

      const trusted = new OpenEnvHttpClient(server.url, { token });
      assert.deepEqual(await trusted.health(), { status: 200, body: { status: 'healthy' } });
      assert.equal((await trusted.reset({})).status, 200);
      const socket = await OpenEnvSocket.connect(server.url, { token });
      assert.equal((((await socket.reset({})) as { type: string }).type), 'observation');
      await socket.close();
    } finally {
      await server.close();
    }
  });
});
