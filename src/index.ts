// Gauntlet's public API: a curated face over the modules. Everything else is internal.

// The data model.
export {
  AssistantMessage,
  Message,
  ModelCall,
  ModelRequest,
  ModelResponse,
  Rollout,
  Run,
  RunConfig,
  Task,
  ToolCall,
  ToolSpec,
  InfraError,
  InputError,
  SCHEMA_VERSION,
  GAUNTLET_VERSION,
} from './core/index.ts';
export type { Environment, ModelClient, ModelResult, Sandbox, TerminationReason, VerifierOutcome } from './core/index.ts';

// Environments: define your own, or use the built-ins.
export { defineCheck, defineEnvironment, defineTool, defineWorldEvent, ToolError, TransientToolError } from './envs/index.ts';
export { environmentNames, getEnvironment, instantiate, loadTaskDirectory, loadTaskFile, registerEnvironment } from './envs/index.ts';
// What a check reads: the rows of a table in the `initial` and `final` snapshots, and how they differ.
export { diffTable, rowsOf } from './envs/index.ts';
export type { CheckDefinition, EnvironmentDefinition, EpisodeContext, Row, TableDiff, ToolDefinition, VerifyContext } from './envs/index.ts';

// Models: provider adapters and the built-in policies.
export { createAnthropicMessages, createModelClient, createOpenAIChat, createScriptedModel, createTextCompletionModel, startMockModelServer } from './model/index.ts';

// Chat templates and tool-call formats.
export { createStreamParser, loadChatTemplate, loadTokenizer, parseCompletion } from './formats/index.ts';

// Sandboxes.
export { createSandbox, sandboxAvailability } from './sandbox/index.ts';

// Running and judging.
export { dropThinking, interleaved, runAgent } from './agent/index.ts';
export { executeRun, validateEnvironment, type RunSummary } from './runner/index.ts';
export { openStore } from './store/index.ts';
export { buildReport, checkGate, compareRuns, renderHtml, renderMarkdown, renderTable } from './eval/index.ts';
