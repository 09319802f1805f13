// Many rollouts, safely: concurrency, deadlines, infra-only retries, resume.
export { executeRun, summarise, type ExecuteRunOptions, type RunProgress, type RunSummary } from './run.ts';
export { executeRollout, judgeFrom, rolloutSeed, type RolloutContext } from './rollout.ts';
export { resolveTasks, tasksForConfig } from './tasks.ts';
export { forEachConcurrent } from './pool.ts';
export { validateEnvironment, type EnvironmentValidation, type TaskValidation, type ValidateOptions } from './validate.ts';
