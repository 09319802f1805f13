// Many rollouts, safely: settings resolved into a stored spec, one episode lifecycle, concurrency,
// deadlines, infra-only retries, leases and resume.
export { executeRun, summarise, type ExecuteRunOptions, type RunNotes, type RunProgress, type RunSummary } from './run.ts';
export { executeRollout, groupIdFor, judgeFrom, rolloutSeed, type RolloutContext, type RolloutEvent, type RolloutOptions } from './rollout.ts';
export { checkMetricsEndpoint, createMetrics, serveMetrics, ROLLOUT_DURATION_BUCKETS, type GauntletMetrics, type MetricsEndpoint, type MetricsEndpointOptions, type MetricsRole, type MetricsScrape } from './metrics.ts';
export {
  builtinCatalog,
  requestTimeoutFor,
  resolveRun,
  selectTasks,
  taskDrift,
  tasksOfRun,
  TextToolsOptions,
  DEFAULT_REQUEST_TIMEOUT_CAP_MS,
  type EnvironmentCatalog,
  type ResolvedRun,
  type ResolveOptions,
  type RunRequest,
  type RunTasks,
  type TaskDrift,
  type TaskSelection,
} from './resolve.ts';
export { openEpisode, outcomeOfError, runEpisode, type DriveContext, type EpisodeDriver, type EpisodeDriverInput, type EpisodeOutcome, type EpisodeSpec, type LiveEpisode, type RunEpisodeOptions } from './episode.ts';
export { API_KEY_VARIABLES, configuredSecrets, judgeFromConfig, modelFromConfig, type ModelEnvironment } from './model.ts';
export { createStartGate, forEachConcurrent } from './pool.ts';
export { unrecordedAgentDriver } from './unrecorded-agent.ts';
export { AUTO_THREADS_FROM, MAX_THREADS } from './threads/threads.ts';
export { validateEnvironment, type EnvironmentValidation, type TaskValidation, type ValidateOptions } from './validate.ts';
