// `gauntlet sandbox-server`: local sandboxes served over the remote sandbox protocol, on leases.
export { startSandboxServer, type SandboxServer, type SandboxServerOptions } from './server.ts';
export type { PoolStats } from './pool.ts';
export { benchRemoteSandbox, type RemoteSandboxBench } from './bench.ts';
