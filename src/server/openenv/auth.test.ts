import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { InputError } from '../../core/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket } from '../../../test/support/openenv-client.ts';
import { hasBearerToken, isLoopbackHost, requiredToken } from '../../core/index.ts';
import { startOpenEnvServer } from './server.ts';

/** A raw POST with the headers given (fetch will not send another Host). */
function postWith(url: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

/** The status a WebSocket upgrade to `path` with these headers gets: 101 when it opened (then closed again). */
function upgradeStatus(url: string, path: string, options: { origin?: string; headers?: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { ...(options.origin ? { origin: options.origin } : {}), headers: options.headers ?? {} });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

const CREATE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'openenv/session/create' });

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

  it('on loopback without a token, refuses other sites\' pages and rebound DNS names (HTTP and WebSocket), and serves clients that are no browser', async () => {
    const server = await startOpenEnvServer({ env: 'mail', port: 0 });
    try {
      const port = new URL(server.url).port;
      const foreign = await postWith(server.url, '/mcp', { origin: 'http://evil.example' }, CREATE);
      assert.equal(foreign.status, 403);
      assert.match(foreign.body, /other origins \(http:\/\/evil\.example\)/);
      const rebound = await postWith(server.url, '/mcp', { origin: 'http://evil.example', host: `evil.example:${port}` }, CREATE);
      assert.equal(rebound.status, 403);
      assert.match(rebound.body, /not loopback/);
      assert.equal((await postWith(server.url, '/reset', { host: `evil.example:${port}` }, '{}')).status, 403, 'a rebound name without Origin (a simple GET-like read)');
      assert.equal(server.stats().sessions, 0, 'no session was made for them');

      assert.equal(await upgradeStatus(server.url, '/ws', { origin: 'http://evil.example' }), 403);
      assert.equal(await upgradeStatus(server.url, '/mcp', { origin: 'http://evil.example' }), 403);
      assert.equal(await upgradeStatus(server.url, '/ws', { headers: { host: `evil.example:${port}` } }), 403);
      assert.equal(server.stats().sessions, 0);

      assert.equal((await postWith(server.url, '/mcp', {}, CREATE)).status, 200, 'no Origin: not a browser');
      assert.equal((await postWith(server.url, '/reset', { origin: server.url }, '{}')).status, 200, 'a page of the server itself');
      assert.equal(await upgradeStatus(server.url, '/ws', {}), 101);
      assert.equal(await upgradeStatus(server.url, '/ws', { origin: server.url }), 101);
    } finally {
      await server.close();
    }
  });

  it('with a token, still refuses other sites\' pages that carry it', async () => {
    const token = 'a-long-enough-secret';
    const server = await startOpenEnvServer({ env: 'mail', port: 0, token });
    try {
      const authorization = `Bearer ${token}`;
      assert.equal((await postWith(server.url, '/mcp', { authorization, origin: 'http://evil.example' }, CREATE)).status, 403);
      assert.equal(await upgradeStatus(server.url, '/ws', { origin: 'http://evil.example', headers: { authorization } }), 403);
      assert.equal((await postWith(server.url, '/reset', { authorization, host: `gauntlet.internal:${new URL(server.url).port}` }, '{}')).status, 200, 'any name, with the token');
      assert.equal(await upgradeStatus(server.url, '/ws', { headers: { authorization } }), 101);
    } finally {
      await server.close();
    }
  });

  it('refuses a token padded with whitespace at startup, which no request could match', async () => {
    await assert.rejects(startOpenEnvServer({ env: 'mail', port: 0, token: ' padded-token ' }), (e: unknown) => e instanceof InputError && e.where === 'token' && /whitespace/.test(e.message));
  });
});
