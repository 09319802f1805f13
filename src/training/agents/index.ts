// External agent programs (pi, codex, qwen-code, opencode) playing Gauntlet's tasks: installed on
// demand, run in bubblewrap with the gateway as their only reachable address, graded by the
// task's own verifier. See docs/design/external-agents.md.
export { AGENTS, TESTED_AGENTS, agentSpec, type AgentLaunch, type AgentSetup, type AgentSpec, type AgentWireApi } from './catalogue.ts';
export { agentInstallDir, defaultAgentCache, ensureAgentInstalled, type InstallOptions, type InstalledAgent } from './install.ts';
export { AGENT_INFRA_SOURCE, agentPrompt, externalAgentDriver, type ExternalAgentDriverOptions } from './driver.ts';
export { FORWARD_PORT, MAX_RELAY_CONNECTIONS, SANDBOX_PATHS, jailArgs, relayedPath, startJailed, type JailOptions, type JailedProcess } from './jail.ts';
export { findShellTool, shellPolicy, type ShellPolicyOptions } from './shell-policy.ts';
export { exportWorkspace, importWorkspace, MAX_WRITE_BACK_BYTES, MAX_WRITE_BACK_FILES, missingWorkspaceTools, WorkspaceLimitError, type WorkspaceChanges, type WorkspaceManifest } from './workspace.ts';
export { startAgentRun, type AgentRun, type AgentRunOptions } from './run-setup.ts';
