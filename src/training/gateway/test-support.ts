// Helpers for this folder's tests: the fake engine behind a gateway, a fetch that keeps what the
// engine itself answered, a two-tool workspace environment for Gauntlet's agent loop, and SSE text.
import {
  createSeededClock,
  memoryRecorder,
  Task,
  type AttemptIdentity,
  type Environment,
  type JsonValue,
  type RolloutId,
  type RunId,
  type ToolSpec,
} from '../../core/index.ts';
import { startFakeEngine, type FakeEngine, type FakeEngineOptions } from '../fake-engine/index.ts';
import { startGateway, type Gateway, type GatewayOptions } from './index.ts';

/** One answer the engine gave the gateway, read from a copy of the upstream response. */
export interface EngineAnswer {
  path: string;
  status: number;
  promptIds: number[] | null;
  completionIds: number[];
  logprobs: number[];
  text: string;
}

/** A fetch that passes everything through and keeps, in arrival order, what the engine answered on its generation routes. */
export function teeFetch(answers: Promise<EngineAnswer>[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const path = new URL(String(input)).pathname;
    if (!path.endsWith('/completions')) return response;
    // A call the client hung up on never completes its copy either: kept as what arrived, not an unhandled rejection.
    answers.push(
      response
        .clone()
        .text()
        .then(
          (text) => readAnswer(path, response.status, text),
          (error: unknown) => ({ path, status: response.status, promptIds: null, completionIds: [], logprobs: [], text: `(the body broke off: ${String(error)})` }),
        ),
    );
    return response;
  };
}

function readAnswer(path: string, status: number, text: string): EngineAnswer {
  const answer: EngineAnswer = { path, status, promptIds: null, completionIds: [], logprobs: [], text };
  const bodies = text.startsWith('data: ') ? sseData(text).filter((d): d is Record<string, JsonValue> => d !== '[DONE]') : [JSON.parse(text) as Record<string, JsonValue>];
  for (const body of bodies) {
    if (Array.isArray(body.prompt_token_ids)) answer.promptIds ??= body.prompt_token_ids as number[];
    const choice = (Array.isArray(body.choices) ? body.choices[0] : undefined) as Record<string, JsonValue> | undefined;
    if (!choice) continue;
    if (Array.isArray(choice.token_ids)) answer.completionIds.push(...(choice.token_ids as number[]));
    const logprobs = choice.logprobs as { content?: { logprob: number }[]; token_logprobs?: number[] } | null;
    if (logprobs?.content) answer.logprobs.push(...logprobs.content.map((entry) => entry.logprob));
    if (logprobs?.token_logprobs) answer.logprobs.push(...logprobs.token_logprobs);
  }
  return answer;
}

/** The `data:` payloads of an event stream, in order (`[DONE]` kept as the string). */
export function sseData(text: string): (Record<string, JsonValue> | '[DONE]')[] {
  return sseEvents(text).map((event) => (event.data === '[DONE]' ? '[DONE]' : (JSON.parse(event.data) as Record<string, JsonValue>)));
}

/** Every event of a stream with its name ('' for none). */
export function sseEvents(text: string): { event: string; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event = '';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
        else throw new Error(`not an SSE line: ${JSON.stringify(line)}`);
      }
      return { event, data: data.join('\n') };
    });
}

export interface Stack {
  engine: FakeEngine;
  gateway: Gateway;
  answers: Promise<EngineAnswer>[];
  close(): Promise<void>;
}

/**
 * The fake engine (with `now` fixed so bodies compare) behind a fresh gateway; with `tee`, the
 * gateway reaches it through a fetch that keeps the engine's answers (else over its own node:http).
 */
export async function startStack(engineOptions: FakeEngineOptions, gatewayOptions: Partial<GatewayOptions> & { tee?: boolean } = {}): Promise<Stack> {
  const engine = await startFakeEngine({ now: () => 1_760_000_000, ...engineOptions });
  const answers: Promise<EngineAnswer>[] = [];
  const { tee, ...options } = gatewayOptions;
  const gateway = await startGateway({ upstream: engine.url, ...(tee ? { fetch: teeFetch(answers) } : {}), ...options });
  return {
    engine,
    gateway,
    answers,
    close: async () => {
      await gateway.close();
      await engine.close();
    },
  };
}

/** A rollout identity and an in-memory recorder attached to the gateway. */
export function attachMemory(gateway: Gateway, rolloutId: string): { identity: AttemptIdentity; recorder: ReturnType<typeof memoryRecorder>; detach: () => void } {
  const identity: AttemptIdentity = { runId: 'run_gateway_test' as RunId, rolloutId: rolloutId as RolloutId, attempt: 1 };
  const recorder = memoryRecorder();
  const detach = gateway.attach({ identity, recorder });
  return { identity, recorder, detach };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

export const WORKSPACE_TOOLS: ToolSpec[] = [
  {
    name: 'read_file',
    description: 'Read a file of the workspace.',
    parameters: { type: 'object', properties: { path: { type: 'string' }, start_line: { type: 'integer', minimum: 1 } }, required: ['path'] },
  },
  {
    name: 'run_command',
    description: 'Run a shell command.',
    parameters: { type: 'object', properties: { cmd: { type: 'string' }, timeout_s: { type: 'number', maximum: 600 } }, required: ['cmd'] },
  },
];

/** The same tools on the chat wire. */
export const CHAT_TOOLS = WORKSPACE_TOOLS.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } }));

export const WORKSPACE_TASK = Task.parse({
  id: 'gateway/fix-parser',
  env: 'workspace',
  instruction: 'The build fails in src/parser.ts. Find out why and fix it.',
  verifier: {},
  golden: { steps: [] },
  limits: { maxTurns: 60, deadlineMs: 600_000 },
  tags: { domain: 'coding', difficulty: 'easy' },
});

/** An environment whose two tools always succeed with a short, deterministic output. */
export function workspaceEnvironment(): Environment {
  let calls = 0;
  return {
    specificationVersion: 'v1',
    name: 'workspace',
    clock: createSeededClock('2026-01-01T00:00:00Z'),
    reset: async () => ({}),
    tools: () => WORKSPACE_TOOLS,
    call: async (tool, args) => {
      calls++;
      return { ok: true, content: `${tool} #${calls} with ${JSON.stringify(args)}: ok` };
    },
    snapshot: async () => ({ calls }),
    verify: async () => ({ passed: true, score: 1, checks: [] }),
    destructiveActions: async () => [],
    close: async () => {},
  };
}
