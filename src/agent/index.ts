// The agent loop and the scaffolds that decide what the model sees each turn.
export { runAgent, DEFAULT_SYSTEM_PROMPT, type AgentResult, type AgentRun, type AgentSettings, type RolloutIdentity } from './loop.ts';
export { scaffolds, scaffoldNames, interleaved, dropThinking, textTools, needsTextCompletion, type Scaffold } from './scaffold.ts';
export { extendsExactly, modelCallRecord, type CallRecordInput } from './recorder.ts';
export { estimateTokens, type ContextPolicy } from './context.ts';
