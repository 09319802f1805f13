// The `remote` sandbox backend (client) and the protocol it shares with `gauntlet sandbox-server`.
export { createRemoteSandbox, probeRemoteSandbox, remoteServerFromEnv, REMOTE_TOKEN_VARIABLE, REMOTE_URL_VARIABLE, type RemoteSandboxOptions } from './client.ts';
export type { FetchLike } from './http.ts';
export * as remoteProtocol from './protocol.ts';
