// The MCP SDK (with its schema validator) costs ~10 MiB and ~0.15 s in every isolate that loads
// it, rollout threads and every `gauntlet` command included; only runs and servers that speak MCP
// load it, on first use.
import type * as ClientModule from '@modelcontextprotocol/sdk/client/index.js';
import type * as ClientStdioModule from '@modelcontextprotocol/sdk/client/stdio.js';
import type * as ServerModule from '@modelcontextprotocol/sdk/server/index.js';
import type * as ServerStdioModule from '@modelcontextprotocol/sdk/server/stdio.js';
import type * as SharedStdioModule from '@modelcontextprotocol/sdk/shared/stdio.js';
import type * as TypesModule from '@modelcontextprotocol/sdk/types.js';

export interface McpClientSdk {
  Client: typeof ClientModule.Client;
  StdioClientTransport: typeof ClientStdioModule.StdioClientTransport;
  getDefaultEnvironment: typeof ClientStdioModule.getDefaultEnvironment;
  ReadBuffer: typeof SharedStdioModule.ReadBuffer;
  serializeMessage: typeof SharedStdioModule.serializeMessage;
  ErrorCode: typeof TypesModule.ErrorCode;
  McpError: typeof TypesModule.McpError;
}

export interface McpServerSdk {
  Server: typeof ServerModule.Server;
  StdioServerTransport: typeof ServerStdioModule.StdioServerTransport;
  CallToolRequestSchema: typeof TypesModule.CallToolRequestSchema;
  ListToolsRequestSchema: typeof TypesModule.ListToolsRequestSchema;
}

let client: Promise<McpClientSdk> | undefined;
let server: Promise<McpServerSdk> | undefined;

/** The SDK's client side, loaded once per isolate. */
export function mcpClientSdk(): Promise<McpClientSdk> {
  return (client ??= Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/shared/stdio.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]).then(([{ Client }, { StdioClientTransport, getDefaultEnvironment }, { ReadBuffer, serializeMessage }, { ErrorCode, McpError }]) => ({
    Client,
    StdioClientTransport,
    getDefaultEnvironment,
    ReadBuffer,
    serializeMessage,
    ErrorCode,
    McpError,
  })));
}

/** The SDK's server side, loaded once per isolate. */
export function mcpServerSdk(): Promise<McpServerSdk> {
  return (server ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]).then(([{ Server }, { StdioServerTransport }, { CallToolRequestSchema, ListToolsRequestSchema }]) => ({ Server, StdioServerTransport, CallToolRequestSchema, ListToolsRequestSchema })));
}
