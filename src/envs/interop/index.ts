// Interoperability: Harbor / Terminal-Bench tasks in, MCP servers in both directions.
export { importTaskDirectory, importTaskFolder, sandboxHasPython, TaskRejected, type DirectoryImport, type ImportedTask, type ImportOptions } from './harbor.ts';
export { writeTasksYaml } from './tasks-yaml.ts';
export { HarborTestsParams, interopChecks, runHarborTests } from './checks.ts';
export { createEnvironmentMcpServer, RESERVED_TOOL_NAMES, serveEnvironmentMcpStdio, type EnvironmentMcpServer, type EnvironmentMcpServerOptions } from './mcp-server.ts';
export { connectMcpTools, withMcpTools, type ConnectMcpOptions, type McpConnection, type McpServerSpec } from './mcp-client.ts';
