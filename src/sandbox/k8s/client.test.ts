// The Kubernetes client library is loaded on first k8s use only: loading it costs every isolate
// ~75 MiB and ~0.7 s, and a run on two rollout threads paid it three times without a pod in sight.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { threadModule } from '../../runner/threads/bundle.ts';

const CLIENT = '@kubernetes/client-node';
const source = (path: string) => pathToFileURL(fileURLToPath(new URL(`../../${path}`, import.meta.url))).href;

describe('the Kubernetes client library', () => {
  it('is not loaded by the command line or the runner, only by the first k8s use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-k8s-lazy-'));
    try {
      const trace = join(dir, 'trace.txt');
      writeFileSync(trace, '');
      // A resolve hook writing down every module of the library that gets resolved.
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/${CLIENT}/')) appendFileSync(${JSON.stringify(trace)}, resolved.url + '\\n');
  return resolved;
}
`);
      const register = join(dir, 'register.mjs');
      writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
      const script = `import { appendFileSync } from 'node:fs';
await import(${JSON.stringify(source('cli/program.ts'))});
await import(${JSON.stringify(source('runner/index.ts'))});
await import(${JSON.stringify(source('sandbox/index.ts'))});
appendFileSync(${JSON.stringify(trace)}, 'first use\\n');
const { k8sClient } = await import(${JSON.stringify(source('sandbox/k8s/client.ts'))});
await k8sClient();
`;
      await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], { timeout: 120_000 });
      const [before, after] = readFileSync(trace, 'utf8').split('first use\n');
      assert.equal(before, '', 'loaded before any k8s use');
      assert.match(after ?? '', new RegExp(`/node_modules/${CLIENT}/`), 'the first use loads it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is imported by the rollout threads\' bundle only where it is used', async () => {
    const bundle = await threadModule();
    assert.ok(bundle, 'the thread bundle builds');
    const text = readFileSync(bundle, 'utf8');
    assert.doesNotMatch(text, new RegExp(`^import [^;]*from "${CLIENT}"`, 'm'));
    assert.match(text, new RegExp(`import\\("${CLIENT}"\\)`));
  });
});
