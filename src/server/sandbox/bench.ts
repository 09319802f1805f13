// What the network hop costs: `true` run through a `remote` sandbox on a loopback sandbox server,
// against the same command in a local persistent sandbox of the same backend. No assertions here;
// `npm run bench` prints the figures.
import type { Sandbox } from '../../core/index.ts';
import { createSandbox } from '../../sandbox/index.ts';
import { startSandboxServer } from './server.ts';

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface RemoteSandboxBench {
  backend: 'bwrap' | 'virtual';
  commands: number;
  local: LatencySummary;
  remote: LatencySummary;
}

function summarise(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), meanMs: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) };
}

async function time(sandbox: Sandbox, commands: number): Promise<number[]> {
  // One warm-up command: the persistent sandbox starts its supervisor on the first.
  await sandbox.exec('true', { timeoutMs: 10_000 });
  const samples: number[] = [];
  for (let i = 0; i < commands; i++) {
    const start = performance.now();
    const result = await sandbox.exec('true', { timeoutMs: 10_000 });
    samples.push(performance.now() - start);
    if (result.exitCode !== 0) throw new Error(`bench: \`true\` exited ${result.exitCode}: ${result.stderr}`);
  }
  return samples;
}

/** Exec latency of `true`, remote (loopback HTTP) vs local, on bwrap where it works. */
export async function benchRemoteSandbox(options: { commands?: number } = {}): Promise<RemoteSandboxBench> {
  const commands = options.commands ?? 200;
  const server = await startSandboxServer({ host: '127.0.0.1', port: 0 });
  try {
    const local = await createSandbox({ backend: server.backend });
    const remote = await createSandbox({ backend: 'remote', remote: { url: server.url } });
    try {
      return { backend: server.backend, commands, local: summarise(await time(local, commands)), remote: summarise(await time(remote, commands)) };
    } finally {
      await Promise.all([local.close(), remote.close()]);
    }
  } finally {
    await server.close();
  }
}
