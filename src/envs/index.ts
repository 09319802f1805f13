// Environments as code: definitions (tools, seed, checks, tasks) and live episodes over SQLite.
export {
  defineCheck,
  defineEnvironment,
  defineTool,
  defineWorldEvent,
  ToolError,
  TransientToolError,
  VerifierSpec,
  CheckSpec,
  ScheduledEvent,
  WorldOptions,
} from './define.ts';
export type { CheckDefinition, EnvironmentDefinition, EpisodeContext, FixedSeedContext, ToolDefinition, VerifyContext, WorldEventDefinition } from './define.ts';
export { instantiate, toolParametersSchema, type InstantiateOptions } from './instance.ts';
export { loadTaskDirectory, loadTaskFile, taskProblemLine } from './tasks.ts';
export { diffTable, dumpTables, rowsOf, type Row, type TableDiff } from './state.ts';
export { genericChecks } from './checks.ts';
export { checkTaskDirectly, type DirectCheckResult } from './direct-check.ts';
export { needsDefaultImage, runsOnlyInImage, taskProblems } from './task-check.ts';
export { BUILT_IN_SOURCE, environmentFiles, environmentNames, environmentSource, getEnvironment, LOADED_FROM_FILE_HINT, registerEnvironment, unregisterEnvironment } from './registry.ts';
export {
  environmentModulesFor,
  loadEnvironmentModules,
  releaseEnvironmentModules,
  type EnvironmentModuleRequest,
  type LoadedEnvironment,
  type LoadEnvironmentModulesOptions,
} from './modules.ts';
export {
  createActFirstPolicy,
  createLlmUser,
  createScriptedUser,
  detectSimulatorFault,
  UserScenario,
  userModelFrom,
  type LlmUserOptions,
  type ScriptedFault,
  type SimulatorFault,
  type UserCallRecord,
  type UserModel,
  type UserSimulator,
} from './users/index.ts';
import './builtins.ts';
