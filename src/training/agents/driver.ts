// The runner-side driver for an external agent: the runner opens and resets the environment, this
// hands the task's files to the agent in its own sandbox, routes its model calls through the
// gateway into the rollout's record, and writes its changes back for the environment's verifier.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, gatewayBaseUrl, InfraError, type InfraSource, type Message, type ModelCall, type RolloutRecorder, type RolloutStats } from '../../core/index.ts';
import type { EpisodeDriver, EpisodeDriverInput } from '../../runner/index.ts';
import type { Gateway } from '../gateway/index.ts';
import { agentLaunchEnv } from './catalogue.ts';
import type { InstalledAgent } from './install.ts';
import { FORWARD_PORT, SANDBOX_PATHS, startJailed } from './jail.ts';
import { exportWorkspace, importWorkspace, missingWorkspaceTools, WorkspaceLimitError, type WorkspaceChanges } from './workspace.ts';

/** An agent program that cannot start or crashes is infrastructure, never a score; the message names the agent. */
export const AGENT_INFRA_SOURCE: InfraSource = 'agent';

/** Output kept per stream: the head and the tail, where start-up errors and final answers are. */
const EXCERPT_BYTES = 8_000;

export interface ExternalAgentDriverOptions {
  agent: InstalledAgent;
  /** A gateway in this process in front of the model; each attempt gets its own route. */
  gateway: Pick<Gateway, 'url' | 'attach'>;
  /** The model name the agent asks for (the engine's served name). */
  model: string;
}

/** Keeps the first and last `EXCERPT_BYTES / 2` bytes of a stream. */
class Excerpt {
  private head = '';
  private tail = '';
  private total = 0;
  push(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.total += chunk.length;
    if (this.head.length < EXCERPT_BYTES / 2) {
      const room = EXCERPT_BYTES / 2 - this.head.length;
      this.head += text.slice(0, room);
      this.tail = (this.tail + text.slice(room)).slice(-EXCERPT_BYTES / 2);
    } else {
      this.tail = (this.tail + text).slice(-EXCERPT_BYTES / 2);
    }
  }
  text(): string {
    const cut = this.total - Buffer.byteLength(this.head) - Buffer.byteLength(this.tail);
    return cut > 0 ? `${this.head}\n… [${cut} bytes cut] …\n${this.tail}` : this.head + this.tail;
  }
}

/** Watches the calls the gateway records, for the rollout's stats and to tell a model failure from an agent's. */
function countingRecorder(inner: RolloutRecorder) {
  const calls: ModelCall[] = [];
  const recorder: RolloutRecorder = {
    modelCall(call) {
      calls.push(call);
      inner.modelCall(call);
    },
    event: (type, data, at) => inner.event(type, data, at),
  };
  return { recorder, calls };
}

function statsOf(calls: readonly ModelCall[]): RolloutStats {
  let promptTokens = 0;
  let completionTokens = 0;
  let toolCalls = 0;
  for (const call of calls) {
    promptTokens += call.response?.usage.promptTokens ?? 0;
    completionTokens += call.response?.usage.completionTokens ?? 0;
    toolCalls += call.response?.message.toolCalls.length ?? 0;
  }
  return { turns: calls.length, modelCalls: calls.length, toolCalls, toolErrors: 0, promptTokens, completionTokens };
}

/** The prompt the agent gets as its command-line argument: the task, the reset's observation, where the files are. */
export function agentPrompt(input: Pick<EpisodeDriverInput, 'task' | 'episode'>): string {
  const parts = [input.task.instruction];
  if (input.episode.observation) parts.push(input.episode.observation);
  parts.push(`The repository is in ${SANDBOX_PATHS.work} (your working directory). There is no network. When you are done, reply with a short summary of what you changed.`);
  return parts.join('\n\n');
}

export function externalAgentDriver(options: ExternalAgentDriverOptions): EpisodeDriver {
  const { spec } = options.agent;
  const gatewayPort = Number(new URL(options.gateway.url).port);
  const gatewayHost = new URL(options.gateway.url).hostname;
  return {
    name: `agent:${spec.name}`,
    async drive(input) {
      const { environment } = input.episode;
      const missing = missingWorkspaceTools(environment);
      if (missing.length > 0) {
        throw new InfraError('environment', `external agent ${spec.name} needs an environment whose files it can work on (tools ${missing.join(', ')} are missing in "${environment.name}"); use coding or terminal`, { retryable: false });
      }
      const io = { environment, ...(input.signal ? { signal: input.signal } : {}) };
      const workDir = await mkdtemp(join(tmpdir(), 'gauntlet-agent-work-'));
      const { recorder, calls } = countingRecorder(input.recorder);
      const detach = options.gateway.attach({ identity: input.identity, recorder, ...(input.policyVersion ? { policyVersion: input.policyVersion } : {}) });
      try {
        const before = await exportWorkspace(io, workDir);
        const prompt = agentPrompt(input);
        const baseUrl = gatewayBaseUrl(`http://127.0.0.1:${FORWARD_PORT}`, input.identity.rolloutId);
        const launch = spec.launch({ baseUrl, model: options.model, prompt });
        input.recorder.event('world_event', { event: 'agent_started', params: { agent: spec.name, package: spec.packageName, version: spec.version, files: before.size } });
        const route = `/rollouts/${encodeURIComponent(input.identity.rolloutId)}`;
        const exit = await runJailed({ input, workDir, launch, agentDir: options.agent.dir, gateway: { host: gatewayHost, port: gatewayPort, route } });
        let changes: WorkspaceChanges = { written: [], deleted: [] };
        let refused: string | null = null;
        try {
          changes = await importWorkspace(io, workDir, before);
        } catch (error) {
          if (!(error instanceof WorkspaceLimitError)) throw error;
          refused = error.message;
        }
        const stats = statsOf(calls);
        input.recorder.event('world_event', {
          event: 'agent_exited',
          params: { agent: spec.name, exitCode: exit.code, signal: exit.signal, ended: exit.ended, durationMs: exit.durationMs, written: changes.written, deleted: changes.deleted, ...(refused ? { writeBackRefused: refused } : {}), stdout: exit.stdout, stderr: exit.stderr },
        });
        const history: Message[] = [{ role: 'user', content: prompt }];
        const answer = exit.stdout.trim();
        if (exit.ended === 'cancelled') return { terminationReason: 'cancelled', answer: null, history, stats };
        // Too much left to write back: the agent's doing, whatever its exit; nothing was written, so nothing is scored.
        if (refused) {
          return {
            terminationReason: 'infra_error',
            answer: null,
            history,
            stats,
            infraError: { source: AGENT_INFRA_SOURCE, kind: 'output_too_large', message: `external agent ${spec.name}@${spec.version} ${refused}; nothing was written back`, retryable: false },
          };
        }
        if (exit.ended === 'deadline') return { terminationReason: 'deadline', answer: null, history, stats };
        const last = calls.at(-1);
        // The model's endpoint failing is the model's infra error; otherwise the agent itself failed.
        const modelFailed = last?.error !== undefined && last.error.kind !== 'aborted';
        // An agent that gives up politely (exit 0) after its last call failed was never answered: not a score either.
        if (exit.code !== 0 || calls.length === 0 || modelFailed) {
          const source: InfraSource = modelFailed ? 'model' : AGENT_INFRA_SOURCE;
          const why = calls.length === 0 ? `exited (code ${String(exit.code)}) without calling the model` : `exited with code ${String(exit.code)}${exit.signal ? ` (${exit.signal})` : ''}`;
          const detail = exit.stderr.trim().split('\n').slice(-5).join('\n');
          return {
            terminationReason: 'infra_error',
            answer: null,
            history,
            stats,
            infraError: { source, kind: modelFailed && last?.error ? last.error.kind : 'connection', message: `external agent ${spec.name}@${spec.version} ${why}${modelFailed ? `; its last model call failed: ${last?.error?.message ?? ''}` : ''}${detail ? `\n${detail}` : ''}`, retryable: modelFailed && (last?.error?.kind === 'connection' || last?.error?.kind === 'timeout') },
          };
        }
        history.push({ role: 'assistant', content: answer, toolCalls: [] });
        return { terminationReason: 'answered', answer, history, stats };
      } catch (error) {
        // A cancel that reached the file transfer first fails its tool call: that is the cancel, not the environment.
        if (input.signal?.aborted) return { terminationReason: 'cancelled', answer: null, history: [], stats: statsOf(calls) };
        if (error instanceof InfraError) throw error;
        throw new InfraError(AGENT_INFRA_SOURCE, `external agent ${spec.name}: ${errorMessage(error)}`, { retryable: false, cause: error });
      } finally {
        detach();
        await rm(workDir, { recursive: true, force: true });
      }
    },
  } satisfies EpisodeDriver;
}

interface JailExit {
  code: number | null;
  signal: string | null;
  ended: 'exited' | 'deadline' | 'cancelled';
  durationMs: number;
  stdout: string;
  stderr: string;
}

async function runJailed(a: {
  input: EpisodeDriverInput;
  workDir: string;
  launch: ReturnType<InstalledAgent['spec']['launch']>;
  agentDir: string;
  gateway: { host: string; port: number; route: string };
}): Promise<JailExit> {
  const { input, launch } = a;
  const jailed = await startJailed({
    workDir: a.workDir,
    agentDir: a.agentDir,
    bin: launch.bin,
    args: launch.args,
    env: { ...agentLaunchEnv(), ...launch.env },
    homeFiles: launch.homeFiles,
    gateway: { host: a.gateway.host, port: a.gateway.port },
    route: a.gateway.route,
  });
  const started = input.now();
  const stdout = new Excerpt();
  const stderr = new Excerpt();
  jailed.child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  jailed.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  let ended: JailExit['ended'] = 'exited';
  const timer = setTimeout(() => {
    ended = 'deadline';
    jailed.kill();
  }, Math.max(0, input.deadlineAt - input.now()));
  const onAbort = () => {
    ended = 'cancelled';
    jailed.kill();
  };
  input.signal?.addEventListener('abort', onAbort, { once: true });
  // A cancel that came before the listener (during the file transfer) never fires it.
  if (input.signal?.aborted) onAbort();
  try {
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve, reject) => {
      jailed.child.once('error', reject);
      jailed.child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s]));
    });
    return { code, signal, ended, durationMs: input.now() - started, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener('abort', onAbort);
    jailed.kill();
    await jailed.dispose();
  }
}
