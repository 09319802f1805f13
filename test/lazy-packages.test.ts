// Heavy packages that only some runs need are loaded on first use: each costs every isolate that
// loads it memory and start-up time, and every rollout thread and every `gauntlet` command is an
// isolate. The Kubernetes client alone (~75 MiB, ~0.7 s) took a two-thread run from ~830 MiB to
// ~1,050 MiB of RSS without a pod in sight.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { cliBundleFile } from '../bin/cli-bundle.js';
import { buildCliBundle } from '../src/cli/bundle.ts';
import { threadModule } from '../src/runner/threads/bundle.ts';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

const source = (path: string) => new URL(`../src/${path}`, import.meta.url).href;

/** Each lazily loaded package, with the loader that loads it on first use. */
const LAZY = [
  { name: '@kubernetes/client-node', loader: source('sandbox/k8s/client.ts'), load: 'k8sClient' },
  { name: '@modelcontextprotocol/sdk', loader: source('envs/interop/mcp-sdk.ts'), load: 'mcpClientSdk' },
  { name: '@modelcontextprotocol/sdk', loader: source('envs/interop/mcp-sdk.ts'), load: 'mcpServerSdk' },
  // The model client's HTTP transport: runs that make no HTTP model call (the oracle, scripted policies) never load it.
  { name: 'undici', loader: source('model/transport.ts'), load: 'undiciModule' },
  // Prometheus metrics: only `--metrics-port` and `serve-rollouts` ask for them, and never a rollout thread.
  { name: 'prom-client', loader: source('runner/metrics.ts'), load: 'promClient', onThreads: false },
];

/**
 * The packages a rollout thread loads at start. Adding one here is a decision: it is paid once
 * per thread and per command, whether a run uses it or not.
 */
const THREAD_START_PACKAGES = ['@hono/node-server', '@huggingface/jinja', 'better-sqlite3', 'hono', 'just-bash', 'lossless-json', 'smol-toml', 'yaml', 'zod'];

/** The packages every `gauntlet` command loads at start: the thread's, and commander. The same decision. */
const CLI_START_PACKAGES = ['@hono/node-server', '@huggingface/jinja', 'better-sqlite3', 'commander', 'hono', 'just-bash', 'lossless-json', 'smol-toml', 'yaml', 'zod'];

/** Packages only some commands use, each loaded where it is used: the queue (~0.13 s with ioredis), the servers' WebSocket, feeds, Parquet, the progress bar, metrics. */
const CLI_LATER = ['bullmq', 'ioredis', 'ws', 'fast-xml-parser', 'hyparquet-writer', 'cli-progress', '@kubernetes/client-node', '@modelcontextprotocol/sdk', 'undici', 'prom-client'];

const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const staticPackages = (text: string) => new Set([...text.matchAll(/^import [^;]*?from "([^".][^"]*)";?$/gm)].map((m) => m[1]!).filter((s) => !s.startsWith('node:')).map(packageOf));

/** The package modules resolved in a child process that imports the CLI, runner and sandbox, then calls `load` of `loader`. */
async function resolvedAround(loader: string, load: string): Promise<{ before: string; after: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-lazy-'));
  try {
    const trace = join(dir, 'trace.txt');
    writeFileSync(trace, '');
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/')) appendFileSync(${JSON.stringify(trace)}, resolved.url + '\\n');
  return resolved;
}
`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const script = `import { appendFileSync } from 'node:fs';
await import(${JSON.stringify(source('cli/program.ts'))});
await import(${JSON.stringify(source('runner/index.ts'))});
await import(${JSON.stringify(source('sandbox/index.ts'))});
await import(${JSON.stringify(source('envs/index.ts'))});
appendFileSync(${JSON.stringify(trace)}, 'first use\\n');
await (await import(${JSON.stringify(loader)})).${load}();
`;
    await promisify(execFile)(process.execPath, [...TYPESCRIPT_NODE_ARGS, '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], { timeout: 120_000 });
    const [before = '', after = ''] = readFileSync(trace, 'utf8').split('first use\n');
    return { before, after };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('heavy packages loaded on first use', () => {
  for (const { name, loader, load } of LAZY) {
    it(`${name} is not loaded by the command line, runner, sandbox or environments, only by ${load}()`, async () => {
      const { before, after } = await resolvedAround(loader, load);
      assert.ok(!before.includes(`/node_modules/${name}/`), `${name} was loaded before its first use`);
      assert.ok(after.includes(`/node_modules/${name}/`), `${load}() loads ${name}`);
    });
  }

  it('a rollout thread loads only the packages it always needs when it starts', async () => {
    const bundle = await threadModule();
    assert.ok(bundle, 'the thread bundle builds');
    const text = readFileSync(bundle, 'utf8');
    assert.deepEqual([...staticPackages(text)].sort(), THREAD_START_PACKAGES);
    assert.doesNotMatch(text, /import\("prom-client"\)/, 'a rollout thread has no metrics of its own: the main thread counts its rollouts');
    for (const { name } of LAZY.filter((p) => p.onThreads !== false)) assert.match(text, new RegExp(`import\\("${name.replace('/', '\\/')}[^"]*"\\)`), `${name} is imported where it is used`);
  });

  it('bullmq is not loaded by the command line, runner, sandbox or environments, only by the first queue operation', async () => {
    const { before, after } = await resolvedAround(source('runner/queue/connection.ts'), 'bullmq');
    assert.ok(!before.includes('/node_modules/bullmq/') && !before.includes('/node_modules/ioredis/'), 'bullmq or ioredis was loaded before its first use');
    assert.ok(after.includes('/node_modules/bullmq/'), 'bullmq() loads bullmq');
  });

  it('a gauntlet command loads only the packages every command needs when it starts', async () => {
    const file = cliBundleFile(fileURLToPath(new URL('..', import.meta.url)));
    assert.ok(existsSync(file) || (await buildCliBundle(file)), 'the command line bundle builds');
    const text = readFileSync(file, 'utf8');
    assert.deepEqual([...staticPackages(text)].sort(), CLI_START_PACKAGES);
    for (const name of CLI_LATER) assert.ok(text.includes(`("${name}`), `${name} is loaded where it is used`);
  });
});
