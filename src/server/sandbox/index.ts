// `gauntlet sandbox-server`: local sandboxes served over the remote sandbox protocol, on leases.
export { DEFAULT_BODY_MEMORY_BYTES, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_READ_BYTES, MAX_READ_BYTES, startSandboxServer, type SandboxServer, type SandboxServerOptions, type SandboxServerStats } from './server.ts';
export type { PoolStats } from './pool.ts';
export { benchRemoteSandbox, type RemoteSandboxBench } from './bench.ts';
