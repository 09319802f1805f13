import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, type JsonObject } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import { createOpenAIChat } from './openai-chat.ts';
import { createModelClient, parseModelSpec } from './spec.ts';
import { fakeFetch, fixturePath, readFixture, request, signal } from './testing.ts';

function inputError(spec: string, pattern: RegExp): void {
  assert.throws(
    () => parseModelSpec(spec),
    (error: unknown) => error instanceof InputError && error.where === '--model' && pattern.test(error.message) && error.expected !== undefined,
    spec,
  );
}

describe('parseModelSpec', () => {
  it('reads the server-free policies', () => {
    for (const kind of ['oracle', 'random', 'placeholder', 'noop', 'destructive'] as const) assert.deepEqual(parseModelSpec(kind), { kind });
    assert.deepEqual(parseModelSpec('scripted:test/fixtures/a:b.yaml'), { kind: 'scripted', path: 'test/fixtures/a:b.yaml' });
  });

  it('splits at the first colon only, so URLs and model names keep theirs', () => {
    assert.deepEqual(parseModelSpec('openai:http://h:8000/v1#Qwen/Qwen3-8B'), { kind: 'openai', baseUrl: 'http://h:8000/v1', model: 'Qwen/Qwen3-8B' });
    assert.deepEqual(parseModelSpec('anthropic:https://api.minimax.io/anthropic#MiniMax-M2'), { kind: 'anthropic', baseUrl: 'https://api.minimax.io/anthropic', model: 'MiniMax-M2' });
    assert.deepEqual(parseModelSpec('minimax:MiniMax-M2'), { kind: 'minimax', model: 'MiniMax-M2' });
    assert.deepEqual(parseModelSpec('openai:https://openrouter.ai/api/v1#qwen/qwen3-8b:free'), { kind: 'openai', baseUrl: 'https://openrouter.ai/api/v1', model: 'qwen/qwen3-8b:free' });
  });

  it('rejects bad specs with the expected form', () => {
    inputError('gpt', /unknown model kind 'gpt'/);
    inputError('openai:http://h:8000#m', /must end in \/v1/);
    inputError('openai:http://h:8000/v1', /needs '#MODEL'/);
    inputError('anthropic:https://api.anthropic.com/v1#claude', /must not end in \/v1/);
    inputError('anthropic:https://api.anthropic.com#', /needs '#MODEL'/);
    inputError('openai:not a url#m', /is not a URL/);
    inputError('scripted:', /needs the path/);
    inputError('minimax:', /needs a model name/);
    inputError('oracle:x', /takes no argument/);
  });

  it('keeps credentials in URLs out of error messages', () => {
    assert.throws(
      () => parseModelSpec('openai:http://user:hunter2@h:8000/api?key=hunter2#m'),
      (error: unknown) => error instanceof InputError && !error.message.includes('hunter2'),
    );
  });
});

describe('credentials in base URLs', () => {
  /** An InputError from `where` that points to `envVar` and does not repeat the secret. */
  const credentialError = (where: string, envVar: RegExp) => (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.where, where);
    assert.equal(error.message.includes('SECRET'), false, error.message);
    assert.match(error.message, envVar);
    return true;
  };
  const rejected = (fn: () => unknown, where: string, envVar: RegExp) => assert.throws(fn, credentialError(where, envVar));

  it('rejects user info and key-like query parameters in a spec, naming the env var and never the secret', () => {
    for (const spec of [
      'openai:http://user:SECRET@h:8000/v1#m',
      'openai:http://h:8000/v1?api_key=SECRET#m',
      'openai:http://h:8000/v1?apiKey=SECRET#m',
      'openai:http://h:8000/v1?x-api-key=SECRET#m',
      'openai:http://h:8000/v1?Token=SECRET#m',
      'openai:http://h:8000/v1?a=1&access_token=SECRET#m',
      'openai:http://h:8000/v1?auth=SECRET#m',
      'openai:http://h:8000/v1?KEY=SECRET#m',
    ]) {
      rejected(() => parseModelSpec(spec), '--model', /OPENAI_API_KEY/);
    }
    rejected(() => parseModelSpec('anthropic:https://api.anthropic.com?key=SECRET#claude'), '--model', /ANTHROPIC_API_KEY/);
    assert.throws(() => parseModelSpec('openai:http://h:8000/v1?api_key=SECRET#m'), /the query parameter 'api_key'/);
  });

  it('rejects them in a --base-url override and in the adapters themselves', async () => {
    await assert.rejects(createModelClient('minimax:MiniMax-M2', { env: {}, baseUrl: 'http://127.0.0.1:9/v1?token=SECRET' }), credentialError('--base-url', /MINIMAX_API_KEY/));
    rejected(() => createOpenAIChat({ baseURL: 'http://me:SECRET@h/v1', model: 'm' }), 'createOpenAIChat: baseURL', /OPENAI_API_KEY/);
    rejected(() => createAnthropicMessages({ baseURL: 'https://h?api_key=SECRET', model: 'm' }), 'createAnthropicMessages: baseURL', /ANTHROPIC_API_KEY/);
  });

  it('keeps other query parameters, after the endpoint path, out of the spec', async () => {
    const fake = fakeFetch([{ json: readFixture('sglang-chat-reasoning-content.json') }]);
    const client = await createModelClient('openai:http://h:8000/v1?api-version=2024-06-01#m', { fetch: fake.fetch, env: {} });
    assert.equal(client.spec, 'openai:http://h:8000/v1#m');
    await client.complete(request({ messages: [{ role: 'user', content: 'hi' }] }), { signal });
    assert.equal(fake.calls[0]?.url, 'http://h:8000/v1/chat/completions?api-version=2024-06-01');
  });
});

describe('createModelClient', () => {
  it('builds an OpenAI client whose spec and records hold no key', async () => {
    const fake = fakeFetch([{ json: readFixture('sglang-chat-reasoning-content.json') }]);
    const client = await createModelClient('openai:http://h:8000/v1#Qwen/Qwen3-8B', { fetch: fake.fetch, env: { OPENAI_API_KEY: 'sk-secret-1' } });
    assert.equal(client.spec, 'openai:http://h:8000/v1#Qwen/Qwen3-8B');
    const result = await client.complete(request({ messages: [{ role: 'user', content: 'hi' }] }), { signal });
    assert.equal(result.ok, true);
    assert.equal(fake.calls[0]?.headers.authorization, 'Bearer sk-secret-1');
    assert.equal(JSON.stringify(result).includes('sk-secret-1'), false);
  });

  it('builds Anthropic and MiniMax clients with keys from the given environment', async () => {
    const fake = fakeFetch([{ json: readFixture('anthropic-thinking-tool-use.json') }, { json: readFixture('minimax-chat-reasoning-details.json') }]);
    const env = { ANTHROPIC_API_KEY: 'ant-secret', MINIMAX_API_KEY: 'mm-secret' };
    const anthropic = await createModelClient('anthropic:https://api.anthropic.com#claude-sonnet-4-5', { fetch: fake.fetch, env });
    const minimax = await createModelClient('minimax:MiniMax-M2', { fetch: fake.fetch, env });
    await anthropic.complete(request({ messages: [{ role: 'user', content: 'hi' }] }), { signal });
    await minimax.complete(request({ messages: [{ role: 'user', content: 'hi' }] }), { signal });
    assert.equal(fake.calls[0]?.headers['x-api-key'], 'ant-secret');
    assert.equal(fake.calls[1]?.url, 'https://api.minimax.io/v1/chat/completions');
    assert.equal(fake.calls[1]?.headers.authorization, 'Bearer mm-secret');
    assert.equal((fake.calls[1]?.body as JsonObject).reasoning_split, true);
    assert.equal(minimax.spec, 'minimax:MiniMax-M2');
    assert.equal(anthropic.spec.includes('ant-secret'), false);
  });

  it('needs MINIMAX_API_KEY for the MiniMax host, but not for an overridden base URL', async () => {
    await assert.rejects(createModelClient('minimax:MiniMax-M2', { env: {} }), /MINIMAX_API_KEY/);
    const fake = fakeFetch([{ json: readFixture('minimax-chat-inline-think.json') }]);
    const local = await createModelClient('minimax:MiniMax-M2', { env: {}, baseUrl: 'http://127.0.0.1:9/v1', fetch: fake.fetch });
    await local.complete(request({ messages: [{ role: 'user', content: 'hi' }] }), { signal });
    assert.equal(fake.calls[0]?.url, 'http://127.0.0.1:9/v1/chat/completions');
    assert.equal(fake.calls[0]?.headers.authorization, undefined);
  });

  it('builds the policies and loads scripts', async () => {
    for (const kind of ['oracle', 'random', 'placeholder', 'noop', 'destructive']) {
      const client = await createModelClient(kind, { seed: 3 });
      assert.equal(client.specificationVersion, 'v1');
      assert.equal(client.spec, kind);
    }
    const path = fixturePath('script-two-turns.yaml');
    const scripted = await createModelClient(`scripted:${path}`);
    assert.equal(scripted.spec, `scripted:${path}`);
    await assert.rejects(createModelClient('scripted:/no/such/script.yaml'), (error: unknown) => error instanceof InputError && error.where === '/no/such/script.yaml');
  });
});
