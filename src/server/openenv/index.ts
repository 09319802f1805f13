// The OpenEnv-compatible environment server: any Gauntlet environment over OpenEnv's HTTP, /ws and
// /mcp protocol, so trainers that speak OpenEnv play our tasks and get our verifier's reward.
export { DEFAULT_BODY_TIMEOUT_MS, startOpenEnvServer, type OpenEnvServer, type OpenEnvServerOptions, type OpenEnvStats } from './server.ts';
export type { ServerMode } from './http.ts';
export { isLoopbackHost, requiredToken } from '../../core/index.ts';
export { OpenEnvEpisode, EpisodeFailure, EpisodeStateError, taskCatalog, type TaskCatalog } from './episode.ts';
export { Action, Observation, EpisodeState, ResetData, WsErrorCode, protocolSchemas, type StepResult } from './protocol.ts';
export { benchOpenEnvStepLatency, type StepLatencyBench, type LatencyFigures } from './bench.ts';
