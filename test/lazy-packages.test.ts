// Heavy packages that only some runs need are loaded on first use: each costs every isolate that
// loads it memory and start-up time, and every rollout thread and every `gauntlet` command is an
// isolate. The Kubernetes client alone (~75 MiB, ~0.7 s) took a two-thread run from ~830 MiB to
// ~1,050 MiB of RSS without a pod in sight.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { threadModule } from '../src/runner/threads/bundle.ts';

const source = (path: string) => new URL(`../src/${path}`, import.meta.url).href;

/** Each lazily loaded package, with the loader that loads it on first use. */
const LAZY = [
  { name: '@kubernetes/client-node', loader: source('sandbox/k8s/client.ts'), load: 'k8sClient' },
  { name: '@modelcontextprotocol/sdk', loader: source('envs/interop/mcp-sdk.ts'), load: 'mcpClientSdk' },
  { name: '@modelcontextprotocol/sdk', loader: source('envs/interop/mcp-sdk.ts'), load: 'mcpServerSdk' },
];

/**
 * The packages a rollout thread loads at start. Adding one here is a decision: it is paid once
 * per thread and per command, whether a run uses it or not.
 */
const THREAD_START_PACKAGES = ['@hono/node-server', '@huggingface/jinja', 'better-sqlite3', 'hono', 'just-bash', 'smol-toml', 'yaml', 'zod'];

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
    await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], { timeout: 120_000 });
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
    const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    const statics = new Set([...text.matchAll(/^import [^;]*?from "([^".][^"]*)";?$/gm)].map((m) => m[1]!).filter((s) => !s.startsWith('node:')).map(packageOf));
    assert.deepEqual([...statics].sort(), THREAD_START_PACKAGES);
    for (const { name } of LAZY) assert.match(text, new RegExp(`import\\("${name.replace('/', '\\/')}[^"]*"\\)`), `${name} is imported where it is used`);
  });
});
