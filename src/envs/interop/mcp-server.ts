// One episode of an environment served as an MCP server: its tools, listed and called through the
// SDK. OpenEnv reserves reset/step/state/close for the infrastructure, so tools with those names
// are renamed; a tool's failure is a result with isError (the agent reads it), never a protocol error.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { GAUNTLET_VERSION, type Environment, type Task, type ToolOutcome } from '../../core/index.ts';
import { mcpServerSdk } from './mcp-sdk.ts';

/** Names OpenEnv keeps for the episode's own control (`reset`, `step`, `state`, `close`). */
export const RESERVED_TOOL_NAMES: readonly string[] = ['reset', 'step', 'state', 'close'];

export interface EnvironmentMcpServerOptions {
  environment: Environment;
  task: Task;
  seed: number;
  /** The episode was already reset (by the runner's episode lifecycle), with this observation. */
  reset?: { observation?: string };
}

export interface EnvironmentMcpServer {
  server: Server;
  /** Exposed tool name → the environment's tool name (they differ only for reserved names). */
  names: Map<string, string>;
  /** Context the environment gave on reset, for the first user turn. */
  observation: string | undefined;
}

/**
 * Exposed tool name → the environment's own: `reset` → `reset_tool` (then `reset_tool_2`, … if
 * that is taken too), every other name as it is. The OpenEnv server exposes tools the same way.
 */
export function exposedToolNames(toolNames: readonly string[]): Map<string, string> {
  const taken = new Set(toolNames);
  const names = new Map<string, string>();
  for (const name of toolNames) {
    if (!RESERVED_TOOL_NAMES.includes(name)) {
      names.set(name, name);
      continue;
    }
    let exposed = `${name}_tool`;
    for (let n = 2; taken.has(exposed); n++) exposed = `${name}_tool_${n}`;
    taken.add(exposed);
    names.set(exposed, name);
  }
  return names;
}

export function toCallToolResult(outcome: ToolOutcome): CallToolResult {
  if (!outcome.ok) return { content: [{ type: 'text', text: outcome.error }], isError: true, _meta: { 'gauntlet/kind': outcome.kind } };
  const result: CallToolResult = { content: [{ type: 'text', text: outcome.content }] };
  if (outcome.data !== undefined && outcome.data !== null && typeof outcome.data === 'object' && !Array.isArray(outcome.data)) {
    result.structuredContent = outcome.data;
  }
  const meta: Record<string, unknown> = {};
  if (outcome.endsEpisode) meta['gauntlet/endsEpisode'] = true;
  if (outcome.answer !== undefined) meta['gauntlet/answer'] = outcome.answer;
  if (Object.keys(meta).length > 0) result._meta = meta;
  return result;
}

/**
 * Resets `environment` for `task` with `seed` (unless `reset` says it was) and returns an MCP
 * server over that episode. The caller connects a transport; closing the server does not close
 * the environment.
 */
export async function createEnvironmentMcpServer(options: EnvironmentMcpServerOptions): Promise<EnvironmentMcpServer> {
  const { environment, task, seed } = options;
  const { Server, CallToolRequestSchema, ListToolsRequestSchema } = await mcpServerSdk();
  const reset = options.reset ?? (await environment.reset(task, { seed }));
  const specs = environment.tools();
  const names = exposedToolNames(specs.map((s) => s.name));
  const byName = new Map(specs.map((s) => [s.name, s]));
  const server = new Server(
    { name: `gauntlet-${environment.name}`, version: GAUNTLET_VERSION },
    { capabilities: { tools: {} }, instructions: [task.instruction, reset.observation].filter(Boolean).join('\n\n') },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...names].map(([exposed, original]): Tool => {
      const spec = byName.get(original)!;
      return { name: exposed, description: spec.description, inputSchema: { ...spec.parameters, type: 'object' } as Tool['inputSchema'] };
    }),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const original = names.get(request.params.name);
    if (original === undefined) {
      return toCallToolResult({ ok: false, kind: 'unknown_tool', error: `unknown tool "${request.params.name}"; available: ${[...names.keys()].join(', ')}` });
    }
    // InfraError propagates: a broken environment is a protocol error, not something the agent did.
    return toCallToolResult(await environment.call(original, request.params.arguments ?? {}, { signal: extra.signal }));
  });
  return { server, names, observation: reset.observation };
}

/**
 * Serves the episode over stdio until the client disconnects, then closes the environment.
 * stdout carries only protocol messages; anything else must go to stderr.
 */
export async function serveEnvironmentMcpStdio(options: EnvironmentMcpServerOptions & { close?: () => Promise<void> }): Promise<void> {
  const { server } = await createEnvironmentMcpServer(options);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  // The stdio transport does not notice stdin ending on its own.
  const ended = () => void server.close();
  process.stdin.once('end', ended);
  try {
    const { StdioServerTransport } = await mcpServerSdk();
    const transport = new StdioServerTransport();
    await server.connect(transport);
    answerUnreadableLines(transport);
    await closed;
  } finally {
    process.stdin.off('end', ended);
    await (options.close ? options.close() : options.environment.close());
  }
}

/**
 * The SDK's stdio transport drops a line that is not JSON, or not a JSON-RPC message, reporting it
 * only to `onerror`: the client then waits for an answer that never comes. JSON-RPC answers such a
 * line with a parse error (-32700) or an invalid request (-32600), id null (it had none we could read).
 */
function answerUnreadableLines(transport: { onerror?: (error: Error) => void; send: (message: never) => Promise<void> }): void {
  const reported = transport.onerror;
  transport.onerror = (error) => {
    reported?.(error);
    const code = error instanceof SyntaxError ? -32700 : error.name === 'ZodError' ? -32600 : undefined;
    if (code === undefined) return;
    const message = code === -32700 ? `Parse error: the line is not JSON (${error.message})` : 'Invalid request: the line is JSON but not a JSON-RPC 2.0 message';
    void transport.send({ jsonrpc: '2.0', id: null, error: { code, message } } as never).catch(() => {});
  };
}
