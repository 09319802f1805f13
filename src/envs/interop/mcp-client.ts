// Tools from external MCP servers (stdio), offered to the agent beside an environment's own:
// `<server>__<tool>`. A server that will not start, or stops, is infrastructure; a tool that fails
// is the agent's to read. Servers run as host processes, or inside bubblewrap when asked; either
// way in a process group of their own, ended as a whole when the connection closes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, type Stream } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import {
  errorMessage,
  GAUNTLET_VERSION,
  InfraError,
  InputError,
  type CallOptions,
  type Environment,
  type JsonObject,
  type ToolOutcome,
  type ToolSpec,
} from '../../core/index.ts';
import { spawnContained, type ContainedProgram, type ContainedProgramOptions } from '../../sandbox/index.ts';
import { mcpClientSdk, type McpClientSdk } from './mcp-sdk.ts';

export interface McpServerSpec {
  /** Prefix of its tools' names: letters, digits, `-` and `_`. */
  name: string;
  command: string;
  args?: string[];
  /**
   * On the host: added to the SDK's safe default environment (PATH, HOME, …), not to the whole of
   * ours. In bubblewrap: added to the sandbox's own (PATH, HOME=/tmp, LANG, TERM).
   */
  env?: Record<string, string>;
  cwd?: string;
  /** In bubblewrap only: more host paths the server needs to read (its install, data), shown read-only. */
  readOnlyPaths?: string[];
}

export interface McpConnection {
  tools: ToolSpec[];
  call(name: string, args: unknown, options: { signal: AbortSignal }): Promise<ToolOutcome>;
  close(): Promise<void>;
}

export interface ConnectMcpOptions {
  servers: McpServerSpec[];
  /** How long a server may take to start and list its tools (default 30 s). */
  startTimeoutMs?: number;
  /** How long one tool call may take (default 60 s, the SDK's default). */
  callTimeoutMs?: number;
  /**
   * Where the server processes run (default `none`: as host processes). `bwrap`: each inside
   * bubblewrap with no network, a read-only view of the system, its working directory, its
   * executable's installation and any absolute path given as a whole argument, its own /tmp (also
   * its HOME), an unprivileged uid when Gauntlet runs as root, and killed with Gauntlet. Refused,
   * never downgraded, where bubblewrap cannot run.
   */
  sandbox?: 'none' | 'bwrap';
}

const SEPARATOR = '__';
const SERVER_NAME = /^[A-Za-z0-9_-]+$/;
const MAX_TOOL_NAME = 64;
/** Tools one server may offer: every tool goes to the model with every request. */
export const MAX_SERVER_TOOLS = 256;
/** One tool's name, description and input schema, as JSON. */
export const MAX_TOOL_SPEC_CHARS = 64 * 1024;
/** A result's text kept for the model (the sandbox cuts a command's output at about as much). */
export const MAX_RESULT_CHARS = 1_000_000;

/** `<server>__<tool>`, with characters ToolSpec does not allow replaced and long names shortened. */
function prefixedName(server: string, tool: string): string {
  const name = `${server}${SEPARATOR}${tool}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (name.length <= MAX_TOOL_NAME) return name;
  const hash = createHash('sha256').update(tool).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_TOOL_NAME - 9)}_${hash}`;
}

/** The result's content as text: text items as they are, other kinds as a short note. */
function contentText(result: CallToolResult): string {
  return result.content
    .map((item) => {
      switch (item.type) {
        case 'text':
          return item.text;
        case 'resource':
          return 'text' in item.resource ? item.resource.text : `[resource ${item.resource.uri}]`;
        case 'resource_link':
          return `[resource ${item.uri}]`;
        default:
          return `[${item.type} ${item.mimeType}]`;
      }
    })
    .join('\n');
}

interface Route {
  client: Client;
  server: string;
  tool: string;
}

/** Process groups of host servers still running: ended if Gauntlet exits without closing them. */
const hostGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of hostGroups) killGroup(pid);
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone
  }
}

/**
 * A server as a host process leading its own process group. The SDK's transport ends only the
 * process it started, so a server's own children (a wrapper script's, an npx launcher's) would
 * outlive the rollout; ending the group ends them too.
 */
async function spawnHost(spec: McpServerSpec, env: Record<string, string>): Promise<ContainedProgram> {
  const child = spawn(spec.command, spec.args ?? [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env, ...(spec.cwd ? { cwd: spec.cwd } : {}) });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;
  hostGroups.add(pid);
  return {
    child,
    stop: async (graceMs = 2000) => {
      await exitWithin(child, graceMs);
      // Whether or not the leader went by itself, what it started goes with the group.
      killGroup(pid);
      hostGroups.delete(pid);
      await exitWithin(child, graceMs);
    },
  };
}

/** Ends stdin (a well-behaved server exits then) and waits up to `ms` for the process to exit. */
async function exitWithin(child: ChildProcessWithoutNullStreams, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((resolve) => child.once('exit', resolve)), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * The SDK's stdio protocol over a server we start ourselves: inside bubblewrap (the SDK's own
 * transport cannot run it as the unprivileged uid the sandbox needs) or on the host in a process
 * group of its own.
 */
class ProgramStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Available before start, so no early output is lost. */
  readonly stderr = new PassThrough();
  private program: ContainedProgram | undefined;
  private connected = false;
  private readonly buffer: InstanceType<McpClientSdk['ReadBuffer']>;

  constructor(
    private readonly sdk: McpClientSdk,
    private readonly launch: () => Promise<ContainedProgram>,
  ) {
    this.buffer = new sdk.ReadBuffer();
  }

  async start(): Promise<void> {
    if (this.program) throw new Error('MCP transport already started');
    const program = await this.launch();
    this.program = program;
    this.connected = true;
    const { child } = program;
    child.stderr.pipe(this.stderr);
    child.on('error', (error) => this.onerror?.(error));
    child.stdin.on('error', (error) => this.onerror?.(error));
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        this.buffer.append(chunk);
      } catch (error) {
        // A message past the buffer's bound: nothing after it can be trusted.
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        void this.close();
        return;
      }
      // A line that is not a JSON-RPC message (a log line on stdout) is reported and skipped, as
      // the SDK's own transport does; the messages around it still count.
      for (;;) {
        try {
          const message = this.buffer.readMessage();
          if (!message) break;
          this.onmessage?.(message);
        } catch (error) {
          this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
    child.on('close', () => {
      this.connected = false;
      this.onclose?.();
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.program?.child.stdin;
    if (!stdin || !this.connected) return Promise.reject(new Error('MCP transport is not connected'));
    return new Promise((resolve) => {
      if (stdin.write(this.sdk.serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    // Stopped even when the server already exited: what it started may still run.
    const program = this.program;
    this.program = undefined;
    this.connected = false;
    await program?.stop();
    this.buffer.clear();
  }
}

function transportFor(sdk: McpClientSdk, spec: McpServerSpec, sandbox: 'none' | 'bwrap'): Transport & { readonly stderr: Stream | null } {
  if (sandbox === 'bwrap') {
    const options: ContainedProgramOptions = {
      command: spec.command,
      ...(spec.args ? { args: spec.args } : {}),
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      ...(spec.readOnlyPaths ? { readOnlyPaths: spec.readOnlyPaths } : {}),
    };
    return new ProgramStdioTransport(sdk, () => spawnContained(options));
  }
  return new ProgramStdioTransport(sdk, () => spawnHost(spec, { ...sdk.getDefaultEnvironment(), ...spec.env }));
}

/** Why a server's tool list cannot be offered to a model, or null. */
function listingProblem(specs: { name: string; description: string; parameters: JsonObject }[]): string | null {
  if (specs.length > MAX_SERVER_TOOLS) return `it lists ${specs.length} tools (at most ${MAX_SERVER_TOOLS})`;
  for (const spec of specs) {
    const size = JSON.stringify(spec).length;
    if (size > MAX_TOOL_SPEC_CHARS) return `its tool ${JSON.stringify(spec.name.slice(0, 64))} takes ${Math.ceil(size / 1024)} KiB as JSON (name, description and input schema: at most ${MAX_TOOL_SPEC_CHARS / 1024} KiB)`;
  }
  return null;
}

/** The result's text and data as the model gets them: cut when past MAX_RESULT_CHARS, saying so. */
function boundedResult(text: string, data: unknown): { content: string; data?: JsonObject } {
  const content = text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}\n[… output cut: ${text.length} characters in all]` : text;
  if (data === undefined || data === null) return { content };
  return JSON.stringify(data).length > MAX_RESULT_CHARS ? { content: `${content}\n[structured result left out: too large]` } : { content, data: data as JsonObject };
}

async function startServer(
  sdk: McpClientSdk,
  spec: McpServerSpec,
  options: { timeoutMs: number; sandbox: 'none' | 'bwrap' },
): Promise<{ client: Client; specs: { name: string; description: string; parameters: JsonObject }[] }> {
  const transport = transportFor(sdk, spec, options.sandbox);
  const timeoutMs = options.timeoutMs;
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const client = new sdk.Client({ name: 'gauntlet', version: GAUNTLET_VERSION });
  try {
    await client.connect(transport, { timeout: timeoutMs });
    const specs: { name: string; description: string; parameters: JsonObject }[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutMs });
      for (const tool of page.tools) specs.push({ name: tool.name, description: tool.description ?? '', parameters: tool.inputSchema as JsonObject });
      cursor = page.nextCursor;
      // A server whose listing never ends is refused once it is past the bound.
      if (specs.length > MAX_SERVER_TOOLS) break;
    } while (cursor);
    const problem = listingProblem(specs);
    if (problem) throw new Error(`its tool list cannot be offered to a model: ${problem}`);
    return { client, specs };
  } catch (error) {
    await client.close().catch(() => undefined);
    const output = stderr.trim() ? `; its stderr: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : '';
    const where = options.sandbox === 'bwrap' ? ' inside bubblewrap' : '';
    throw new InfraError('environment', `MCP server "${spec.name}" (${[spec.command, ...(spec.args ?? [])].join(' ')}) failed to start${where}: ${errorMessage(error)}${output}`, {
      retryable: false,
      cause: error,
    });
  }
}

/** Starts every server, lists their tools, and routes calls by prefixed name. */
export async function connectMcpTools(options: ConnectMcpOptions): Promise<McpConnection> {
  const seen = new Set<string>();
  for (const [i, server] of options.servers.entries()) {
    if (!SERVER_NAME.test(server.name)) throw new InputError(`servers.${i}.name`, `"${server.name}" is not a valid server name`, 'letters, digits, - and _');
    if (seen.has(server.name)) throw new InputError(`servers.${i}.name`, `duplicate server name "${server.name}"`);
    seen.add(server.name);
  }
  const sdk = await mcpClientSdk();
  const clients: Client[] = [];
  /** Servers whose connection ended (they exited or were closed). */
  const stopped = new Set<Client>();
  const routes = new Map<string, Route>();
  const tools: ToolSpec[] = [];
  const close = async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  };
  try {
    for (const server of options.servers) {
      const { client, specs } = await startServer(sdk, server, { timeoutMs: options.startTimeoutMs ?? 30_000, sandbox: options.sandbox ?? 'none' });
      clients.push(client);
      client.onclose = () => stopped.add(client);
      for (const spec of specs) {
        const name = prefixedName(server.name, spec.name);
        if (routes.has(name)) throw new InfraError('environment', `MCP server "${server.name}": two tools map to the name ${name}`, { retryable: false });
        routes.set(name, { client, server: server.name, tool: spec.name });
        tools.push({ name, description: spec.description, parameters: spec.parameters });
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    tools,
    close,
    async call(name, args, { signal }) {
      const route = routes.get(name);
      if (!route) return { ok: false, kind: 'unknown_tool', error: `unknown MCP tool "${name}"; available: ${[...routes.keys()].join(', ')}` };
      if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
        return { ok: false, kind: 'invalid_arguments', error: `${name}: arguments must be an object` };
      }
      // A server that exited after an earlier call is the environment's failure, not the model's call.
      if (stopped.has(route.client)) throw new InfraError('environment', `MCP server "${route.server}" is no longer running (it exited after an earlier call); ${route.tool} was not called`);
      try {
        const result = (await route.client.callTool({ name: route.tool, arguments: (args ?? {}) as Record<string, unknown> }, undefined, {
          signal,
          ...(options.callTimeoutMs ? { timeout: options.callTimeoutMs } : {}),
        })) as CallToolResult;
        const bounded = boundedResult(contentText(result), result.structuredContent);
        if (result.isError) return { ok: false, kind: 'tool_error', error: bounded.content || `${name} failed` };
        return { ok: true, ...bounded };
      } catch (error) {
        if (signal.aborted) throw error;
        if ((error instanceof sdk.McpError && error.code === sdk.ErrorCode.ConnectionClosed) || stopped.has(route.client)) {
          throw new InfraError('environment', `MCP server "${route.server}" closed the connection during ${route.tool}`, { cause: error });
        }
        return { ok: false, kind: 'tool_error', error: `${name}: ${errorMessage(error)}` };
      }
    },
  };
}

/** The environment with the connection's tools added; prefixed names go to MCP, the rest to it. */
export function withMcpTools(environment: Environment, connection: McpConnection): Environment {
  const mcpNames = new Set(connection.tools.map((t) => t.name));
  // An MCP tool named like one of the environment's own would hide it (and its checks' meaning).
  const hidden = environment.tools().filter((t) => mcpNames.has(t.name));
  if (hidden.length > 0) {
    const names = hidden.map((t) => t.name).join(', ');
    // The caller gets no wrapper to close: the servers are stopped here.
    void connection.close().catch(() => undefined);
    throw new InputError('mcpServers', `MCP tools ${names} have the names of ${environment.name}'s own tools`, 'a server name whose <server>__<tool> names the environment does not use');
  }
  return {
    specificationVersion: 'v1',
    name: environment.name,
    get clock() {
      return environment.clock;
    },
    reset: (task, options) => environment.reset(task, options),
    tools: () => [...environment.tools().filter((t) => !mcpNames.has(t.name)), ...connection.tools],
    call: (tool: string, args: unknown, options: CallOptions) => (mcpNames.has(tool) ? connection.call(tool, args, options) : environment.call(tool, args, options)),
    snapshot: () => environment.snapshot(),
    verify: (final) => environment.verify(final),
    destructiveActions: () => environment.destructiveActions(),
    // The wrapper owns both: closing it ends the episode and stops the MCP servers.
    close: async () => {
      await Promise.all([environment.close(), connection.close()]);
    },
  };
}
