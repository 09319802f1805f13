// Interoperability: Harbor / Terminal-Bench tasks in and out, MCP servers in both directions.
export { importTaskDirectory, importTaskFolder, sandboxHasPython, TaskRejected, type DirectoryImport, type ImportedTask, type ImportOptions } from './harbor.ts';
export { harbor, harborSandboxOptions, type HarborSandboxOptions } from './harbor-env.ts';
export { HarborState } from './harbor-state.ts';
export { PassRule, passRuleFrom, passes, readRewards, type Rewards } from './rewards.ts';
export { writeTasksYaml } from './tasks-yaml.ts';
export { HarborTestsParams, interopChecks, runHarborTests, type HarborTestsOutput } from './checks.ts';
export { createEnvironmentMcpServer, exposedToolNames, RESERVED_TOOL_NAMES, serveEnvironmentMcpStdio, type EnvironmentMcpServer, type EnvironmentMcpServerOptions } from './mcp-server.ts';
export { connectMcpTools, withMcpTools, type ConnectMcpOptions, type McpConnection, type McpServerSpec } from './mcp-client.ts';
